"""`rollsync-agent` commands; every one takes --config (default SyncConfig.json in the working directory)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from rollsync_agent.config import AgentConfig, ConfigError, load_config
from rollsync_agent.installsql import install_sql


def _say(text: str, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(text + "\n")


def _parser() -> argparse.ArgumentParser:
    """`--config` is accepted before or after the command (`rollsync-agent run --config SyncConfig.json`)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="default: ./SyncConfig.json")
    p = argparse.ArgumentParser(prog="rollsync-agent", description="factory hetong table <-> rollsync cloud")
    p.add_argument("--config", type=Path, default=Path("SyncConfig.json"))
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "the long-running sync loop (service)"),
        ("check", "validate the config, try the database and the cloud"),
        ("once", "one sync round, then exit"),
        ("status", "what the status page shows"),
        ("sync-now", "ask the running agent for a round now"),
        ("reconcile", "send the local digest to the cloud now"),
    ):
        sub.add_parser(name, help=text, parents=[common])
    imp = sub.add_parser(
        "import-history", help="upload the table or an export file, resumable", parents=[common]
    )
    imp.add_argument("source", nargs="?", type=Path, help="sqlcmd / CSV / JSON export (default: the table)")
    sql = sub.add_parser("install-sql", help="print the queue-mode installer and its undo", parents=[common])
    sql.add_argument("--dialect", choices=["mssql", "postgresql"], default="mssql")
    return p


def _config(path: Path) -> AgentConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        _say(f"config: {exc}", err=True)
        raise SystemExit(2) from exc


def _install_sql(dialect: str, path: Path) -> int:
    table, queue = "hetong", "sync_queue"
    if path.exists():
        db = _config(path).database
        table, queue = db.sync_table_name, db.queue_table_name
    install, uninstall = install_sql("mssql" if dialect == "mssql" else "postgresql", table, queue)
    _say(install)
    _say("-- ===== uninstall =====")
    _say(uninstall)
    return 0


def _check(config: AgentConfig) -> int:
    from rollsync_agent.check import check_all

    problems = check_all(config)
    for line in problems:
        _say(line)
    if not problems:
        _say("ok: configuration, database and cloud all answer")
    return 1 if problems else 0


def _import(config: AgentConfig, source: Path | None) -> int:
    from rollsync_agent.history import import_history

    r = import_history(config, source, progress=True)
    _say(f"{r.total} lines: {r.accepted} accepted, {r.rejected} refused, {r.skipped} already in the cloud")
    return 1 if r.rejected else 0


def _status(command: str, config: AgentConfig) -> int:
    status_cli = importlib.import_module("rollsync_agent.status_cli")  # agentui's module
    main = status_cli.main_status if command == "status" else status_cli.main_sync_now
    return int(main(config) or 0)


def _run(config: AgentConfig) -> int:
    from rollsync_agent import loop
    from rollsync_agent.logs import setup_logging

    config.log_path.parent.mkdir(parents=True, exist_ok=True)
    setup_logging(config.logging, str(config.log_path))
    loop.run_forever(config)
    return 0


def _once(command: str, config: AgentConfig) -> int:
    from rollsync_agent import loop, reconcile
    from rollsync_agent.factory_db import load_table

    agent = loop.Agent(config)
    try:
        if command == "reconcile":
            answer = reconcile.reconcile(
                agent.engine, load_table(agent.engine, config), agent.state, agent.client
            )
            _say(json.dumps(answer, ensure_ascii=False, indent=2))
            return 0
        return 0 if agent.cycle() else 1
    finally:
        agent.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "install-sql":
        return _install_sql(args.dialect, args.config)
    config = _config(args.config)
    if args.command == "check":
        return _check(config)
    if args.command in ("status", "sync-now"):
        return _status(args.command, config)
    if args.command == "import-history":
        return _import(config, args.source)
    return _run(config) if args.command == "run" else _once(args.command, config)


if __name__ == "__main__":
    raise SystemExit(main())
