"""The factory's `hetong` table in seed 000's shape (one status column per process), for the agent's tests.

Created through SQLAlchemy so the same helper builds it in PostgreSQL and SQLite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import (
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Unicode,
    create_engine,
    delete,
    insert,
    select,
    update,
)

from tests.support.stack import PYTHON, ROOT, TEST_PORTS, admin_dsn

PROCESSES = ("基辊加工", "镀铜", "雕刻", "镀铬", "抛光", "检验", "喷砂", "热喷涂", "陶瓷磨削")
TEXT = ("甲方", "乙方", "产品名称", "产品类型", "合同状态", "规格", "单位", "合同金额", "交货日期", "备注")


def hetong_table(name: str = "hetong") -> Table:
    md = MetaData()
    return Table(
        name,
        md,
        Column("产品ID", Unicode(64), nullable=False),
        Column("合同编号", Unicode(64), nullable=False),
        *(Column(c, Unicode(200)) for c in TEXT),
        Column("数量", Integer),
        Column("单价", Numeric(12, 2)),
        Column("签订日期", Date),
        *(Column(p, Unicode(20)) for p in PROCESSES),
        PrimaryKeyConstraint("合同编号", "产品ID"),
    )


def local_row(row: dict[str, Any]) -> dict[str, Any]:
    """A generated row as the factory stores it (typed date and price)."""
    import datetime as dt
    from decimal import Decimal

    out: dict[str, Any] = dict.fromkeys(("数量", "单价", "签订日期", *TEXT, *PROCESSES))
    out.update({k: v for k, v in row.items() if v != ""})
    out["签订日期"] = dt.date.fromisoformat(row["签订日期"])
    out["单价"] = Decimal(row["单价"])
    return out


def create_hetong(engine: Engine, rows: list[dict[str, Any]] = ()) -> Table:  # type: ignore[assignment]
    table = hetong_table()
    table.metadata.create_all(engine)
    insert_rows(engine, table, rows)
    return table


def insert_rows(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(table), [local_row(r) for r in rows])


def set_columns(engine: Engine, table: Table, key: tuple[str, str], **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(table).where(table.c["合同编号"] == key[0], table.c["产品ID"] == key[1]).values(values)
        )


def delete_line(engine: Engine, table: Table, key: tuple[str, str]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c["合同编号"] == key[0], table.c["产品ID"] == key[1]))


def read_all(engine: Engine, table: Table) -> dict[tuple[str, str], dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    return {(r["合同编号"], r["产品ID"]): dict(r) for r in rows}


@contextmanager
def pg_database() -> Iterator[str]:
    """A throwaway database in the stack's cluster; yields its SQLAlchemy URL."""
    name = f"factory_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_dsn(name).replace("postgresql://", "postgresql+psycopg://")
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_config(path: Path, base_url: str, client_id: str, secret: str, db_url: str, **sync: Any) -> Path:
    doc = {
        "cloudApi": {"baseUrl": base_url, "clientId": client_id, "clientSecret": secret, "timeout": 10000},
        "database": {"connectionString": db_url, "syncTableName": "hetong", "queueTableName": "sync_queue"},
        "sync": {"intervalMinutes": 0.02, "batchSize": 50, "retryCount": 3, "enableAutoSync": True, **sync},
        "logging": {
            "level": "Info",
            "filePath": str(path.parent / "logs" / "sync.log"),
            "maxFileSize": "1MB",
        },
        "statusPage": {"enabled": False},
        "stateFile": str(path.parent / "agent.state"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def factory_engine(url: str) -> Engine:
    return create_engine(url)


# -- the real edge and the agent as a process ---------------------------------------------------------------
EDGE_INSTANCE = "nginx-agent-test"
EDGE_PORT = TEST_PORTS["ingest"] + 79  # tests' own edge, beside the tests' service ports


def _edge_env() -> dict[str, str]:
    return {
        **os.environ,
        "ROLLSYNC_NGINX_INSTANCE": EDGE_INSTANCE,
        "ROLLSYNC_EDGE_PORT": str(EDGE_PORT),
        "ROLLSYNC_INGEST_PORT": str(TEST_PORTS["ingest"]),
        "ROLLSYNC_TRANSFORM_PORT": str(TEST_PORTS["transform"]),
        "ROLLSYNC_RULES_PORT": str(TEST_PORTS["rules"]),
        "ROLLSYNC_ERP_CONNECTOR_PORT": str(TEST_PORTS["erp-connector"]),
    }


def edge(action: str) -> None:
    """scripts/nginx.sh start|stop for the tests' own nginx instance, routed to the tests' services."""
    subprocess.run(
        [str(ROOT / "scripts" / "nginx.sh"), action], env=_edge_env(), check=True, capture_output=True
    )


def edge_requests(method_path: str) -> int:
    """How many requests the test edge logged for `"POST /sync/contracts/batch"`-style prefixes."""
    log = ROOT / ".local" / "logs" / f"{EDGE_INSTANCE}-access.log"
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(errors="replace").splitlines() if f'"{method_path}' in line)


@dataclass
class AgentProcess:
    """`rollsync-agent run --config …` as the service manager runs it."""

    config: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        log = (self.config.parent / "agent-stdout.log").open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "rollsync_agent.cli", "--config", str(self.config), "run"],
            stdout=log,
            stderr=log,
            cwd=self.config.parent,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
