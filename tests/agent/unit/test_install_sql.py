"""The queue-mode installer: T-SQL parsed by sqlglot's tsql dialect (SQL Server cannot run here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from rollsync_agent.cli import main
from rollsync_agent.installsql import batches, install_sql


def _parse(sql: str, dialect: str) -> list[exp.Expression]:
    return [e for e in sqlglot.parse(sql, read=dialect) if e is not None]


# Forms sqlglot 27 does not model (it falls back to an opaque Command); each is checked by shape instead.
OPAQUE = re.compile(
    r"^(CREATE OR ALTER TRIGGER dbo\.tr_hetong_sync ON dbo\.\[hetong\]\nAFTER INSERT, UPDATE, DELETE\nAS\nBEGIN"
    r"|DROP TRIGGER IF EXISTS dbo\.tr_hetong_sync;$"
    r"|ALTER TABLE dbo\.\[hetong\] DROP COLUMN IF EXISTS sync_status, sync_time, cloud_contract_id, last_sync_hash;$)"
)


def _statements(batch: str) -> list[str]:
    """`IF <guard>\n<statement>` batches: the guard is parsed as a SELECT, the statement on its own."""
    body = "\n".join(x for x in batch.splitlines() if not x.startswith("--"))
    if body.startswith("IF "):
        guard, statement = body.split("\n", 1)
        return ["SELECT " + guard[3:], statement]
    return [body]


def test_every_tsql_batch_parses() -> None:
    install, uninstall = install_sql("mssql")
    parsed = 0
    for batch in batches(install) + batches(uninstall):
        for statement in _statements(batch):
            for e in _parse(statement, "tsql"):
                if isinstance(e, exp.Command):
                    assert OPAQUE.match(statement), statement
                else:
                    parsed += 1
    assert (
        parsed >= 10
    )  # 3 guards, ALTER, CREATE TABLE, CREATE INDEX, the trigger's IF + 2 INSERTs, DROP TABLE...


def test_the_postgresql_installer_runs_through_a_parser_too() -> None:
    install, uninstall = install_sql("postgresql")
    kinds = [type(e).__name__ for e in _parse(install.split("CREATE OR REPLACE FUNCTION")[0], "postgres")]
    assert kinds == ["Alter", "Create", "Create"]
    assert _parse(uninstall.split("ALTER TABLE")[0], "postgres")


def test_the_trigger_body_is_real_tsql_not_an_opaque_command() -> None:
    install, _ = install_sql("mssql")
    trigger = next(b for b in batches(install) if "CREATE OR ALTER TRIGGER" in b)
    body = trigger.split("AS\nBEGIN", 1)[1].rsplit("END;", 1)[0]
    statements = _parse(body.replace("SET NOCOUNT ON;", ""), "tsql")
    inserts = [s for s in statements if isinstance(s, exp.Insert)]
    assert len(inserts) == 2
    assert {t.name for s in inserts for t in s.find_all(exp.Table)} >= {"sync_queue", "inserted", "deleted"}
    assert "SESSION_CONTEXT(N'rollsync_agent')" in trigger  # the agent's own writes never re-enter


def test_the_seeds_columns_are_all_there_and_completed() -> None:
    install, _ = install_sql("mssql")
    for column in (
        "sync_status",
        "sync_time",
        "cloud_contract_id",
        "last_sync_hash",
        "data_snapshot",
        "error_message",
    ):
        assert column in install
    assert "attempts INT NOT NULL DEFAULT 0" in install
    assert "AFTER INSERT, UPDATE, DELETE" in install


def test_names_cannot_inject() -> None:
    with pytest.raises(ValueError, match="letters"):
        install_sql("mssql", table="hetong; DROP TABLE x")


def test_the_cli_prints_both_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", "/nonexistent/SyncConfig.json", "install-sql", "--dialect", "postgresql"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TRIGGER" in out
    assert "-- ===== uninstall =====" in out


def test_config_may_follow_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "SyncConfig.json"
    cfg.write_text(
        '{"cloudApi": {"baseUrl": "http://x", "clientId": "c", "clientSecret": "s"},'
        ' "database": {"connectionString": "sqlite://", "syncTableName": "contract_lines", "queueTableName": "q2"}}',
        encoding="utf-8",
    )
    assert main(["install-sql", "--dialect", "mssql", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "CREATE OR ALTER TRIGGER dbo.tr_contract_lines_sync ON dbo.[contract_lines]" in out
    assert "INSERT INTO dbo.[q2]" in out
