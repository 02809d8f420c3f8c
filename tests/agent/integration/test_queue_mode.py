"""`queue` mode on a real PostgreSQL: the installer's trigger fills sync_queue, the agent drains it.

The cloud is a scripted stand-in here (it refuses one line on purpose); the real cloud is in tests/agent/e2e.
Every statement the agent issues is also compiled with SQLAlchemy's mssql dialect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.dialects import mssql
from sqlalchemy.sql.elements import ClauseElement, TextClause
from sqlalchemy.sql.util import find_tables

from rollsync_agent.cloud import CloudClient
from rollsync_agent.config import CloudApi
from rollsync_agent.factory_db import LineTable, reflect
from rollsync_agent.feed import Update, write_back
from rollsync_agent.installsql import install_sql
from rollsync_agent.queue import drain
from rollsync_agent.state import StateStore
from tests.support.agent_factory import create_hetong, delete_line, insert_rows, read_all, set_columns
from tests.support.generate import contract_rows

pytestmark = pytest.mark.integration
BAD_LINE = ("HT0000001", "P0000001002")


def _cloud(sent: list[dict[str, Any]]) -> CloudClient:
    """Accepts every line but BAD_LINE (refused as invalid_value); deletes are acknowledged."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/system-login":
            return httpx.Response(200, json={"access_token": "t"})
        body = json.loads(request.content)
        sent.append(body)
        results = [
            {"index": i, "status": "rejected", "reason": "invalid_value", "message": "列 甲方 不合法"}
            if (r["合同编号"], r["产品ID"]) == BAD_LINE
            else {"index": i, "status": "accepted", "version": 1}
            for i, r in enumerate(body["contracts"])
        ]
        deleted = [{"index": i, "status": "deleted"} for i, _ in enumerate(body.get("deleted", []))]
        return httpx.Response(200, json={"results": results, "deleted_results": deleted})

    api = CloudApi(base_url="http://cloud.test", client_id="c", client_secret="s")
    return CloudClient(api, transport=httpx.MockTransport(handler))


def _install(url: str) -> None:
    install, _ = install_sql("postgresql")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(install)


def _record(engine: Engine) -> list[ClauseElement]:
    seen: list[ClauseElement] = []

    @event.listens_for(engine, "before_execute")
    def _seen(conn: object, clause: ClauseElement, *args: object) -> None:
        seen.append(clause)

    return seen


def _queue(engine: Engine) -> list[dict[str, Any]]:
    q = reflect(engine, "sync_queue")
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(q).order_by(q.c.id)).mappings()]


def _prepare(url: str, tmp_path: Path) -> tuple[Engine, LineTable, StateStore]:
    engine = create_engine(url)
    table = create_hetong(engine)
    _install(url)
    insert_rows(engine, table, contract_rows(6, seed=5))
    return engine, LineTable(reflect(engine, "hetong")), StateStore(tmp_path / "agent.state")


def test_the_trigger_records_inserts_updates_and_deletes_but_not_the_agents_writes(
    pg_factory_url: str, tmp_path: Path
) -> None:
    engine, lines, state = _prepare(pg_factory_url, tmp_path)
    assert [e["action"] for e in _queue(engine)] == ["insert"] * 6
    set_columns(engine, lines.table, ("HT0000001", "P0000001001"), 备注="改")
    delete_line(engine, lines.table, ("HT0000001", "P0000001003"))
    assert [e["action"] for e in _queue(engine)][6:] == ["update", "delete"]
    statements = _record(engine)
    write_back(
        engine,
        lines,
        state,
        Update(("HT0000001", "P0000001001"), False, {"基辊加工": "返工"}, {"基辊加工": "返工"}),
    )
    texts = _compiles_for_sql_server(statements)
    assert any("FROM hetong WITH (UPDLOCK, ROWLOCK)" in t for t in texts), texts
    assert any(t.startswith("UPDATE hetong SET [基辊加工]") for t in texts), texts
    assert read_all(engine, lines.table)[("HT0000001", "P0000001001")]["基辊加工"] == "返工"
    assert len(_queue(engine)) == 8  # the agent's own write-back did not enter the queue


def test_drain_marks_synced_and_failed_and_honours_retry_count(pg_factory_url: str, tmp_path: Path) -> None:
    engine, lines, state = _prepare(pg_factory_url, tmp_path)
    delete_line(engine, lines.table, ("HT0000001", "P0000001003"))
    sent: list[dict[str, Any]] = []
    cloud = _cloud(sent)
    statements = _record(engine)

    out = drain(engine, lines, reflect(engine, "sync_queue"), state, cloud, batch_size=50, retry_count=3)
    assert (len(out.accepted), len(out.deleted), len(out.rejected)) == (4, 1, 1)
    assert len(sent) == 1  # one line inserted then deleted: one delete, not an insert and a delete
    queue = _queue(engine)
    bad = [e for e in queue if (e["record_id"], e["product_id"]) == BAD_LINE]
    assert [(e["sync_status"], e["attempts"]) for e in bad] == [("failed", 1)]
    assert "invalid_value" in bad[0]["error_message"]
    assert all(e["sync_status"] == "synced" and e["synced_at"] for e in queue if e not in bad)
    local = read_all(engine, lines.table)
    assert local[BAD_LINE]["sync_status"] == "failed"
    good = local[("HT0000001", "P0000001001")]
    assert (good["sync_status"], len(good["last_sync_hash"])) == ("synced", 64)
    assert good["sync_time"] is not None
    assert len(_queue(engine)) == len(queue)  # bookkeeping updates did not re-enter the queue

    for _ in range(4):  # retryCount = 3: two more tries, then the entry stays failed and visible
        drain(engine, lines, reflect(engine, "sync_queue"), state, cloud, batch_size=50, retry_count=3)
    bad = [e for e in _queue(engine) if (e["record_id"], e["product_id"]) == BAD_LINE]
    assert [(e["sync_status"], e["attempts"]) for e in bad] == [("failed", 3)]
    assert len(sent) == 3
    texts = _compiles_for_sql_server(statements)
    assert any(t.startswith("UPDATE sync_queue") for t in texts)
    assert any(t.startswith("SELECT TOP") for t in texts)


def _compiles_for_sql_server(statements: list[ClauseElement]) -> set[str]:
    """Every statement the agent issued, compiled with the mssql dialect (SQL Server cannot run here)."""
    ours = [
        s
        for s in statements
        if not isinstance(s, TextClause) and {t.name for t in find_tables(s)} & {"hetong", "sync_queue"}
    ]
    assert ours
    dialect = mssql.dialect()  # type: ignore[no-untyped-call]
    texts = {str(s.compile(dialect=dialect)) for s in ours}
    for text in texts:
        assert "LIMIT" not in text  # T-SQL has TOP / OFFSET…FETCH, never LIMIT
        assert '"' not in text  # mssql quotes with [brackets]
    return texts
