"""The cloud side of reconciliation read from transform's tables: live lines only, who-wins statuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from tests.support.schemas import scratch_schema
from transform.adapters.reconcile_queries import cloud_lines

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "transform" / "migrations"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with scratch_schema(MIGRATIONS, prefix="tr") as (_, pool):
        for c, p, row, deleted in (
            ("A", "P1", '{"合同编号": "A", "产品ID": "P1", "热喷涂": "进行中", "镀铬": "未开始"}', False),
            ("A", "P2", "{}", True),  # deleted at the source: a tombstone with the empty row of the event
            ("B", "P1", '{"合同编号": "B", "产品ID": "P1"}', False),
            ("C", "P1", '{"合同编号": "C", "产品ID": "P1"}', True),  # the flag counts, not the row
        ):
            await pool.execute(
                "INSERT INTO hetong_original (contract_no, product_id, version, row, content_hash, source, client_id,"
                " received_at, deleted) VALUES ($1, $2, 1, $3::jsonb, '', 's', 'c', $4, $5)",
                c,
                p,
                row,
                T0,
                deleted,
            )
        hour = timedelta(hours=1)
        states = [
            # process, uploaded, uploaded_at, reported, worker's time, received by ingest
            ("A", "P1", "热喷涂", "进行中", T0, "已完成", T0 + hour, T0 + hour),  # the later report wins
            # the worker's clock says 3 h, ingest received it at 1 h: the upload at 2 h wins (like with like)
            ("A", "P1", "镀铬", "暂停", T0 + 2 * hour, "未开始", T0 + 3 * hour, T0 + hour),
            ("A", "P1", "检验", None, None, None, None, None),  # no status anywhere: not a process entry
            ("A", "P2", "热喷涂", "进行中", T0, None, None, None),
        ]
        for i, (c, p, process, up, up_at, rep, rep_at, received) in enumerate(states):
            await pool.execute(
                "INSERT INTO product_processes (contract_no, product_id, process, seq, uploaded_status, uploaded_at,"
                " reported_status, reported_at, report_received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                c,
                p,
                process,
                i,
                up,
                up_at,
                rep,
                rep_at,
                received,
            )
        yield pool


async def test_live_lines_with_their_effective_statuses(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        lines = {(x.contract_no, x.product_id): x for x in await cloud_lines(conn, None)}
    assert set(lines) == {("A", "P1"), ("B", "P1")}
    assert lines[("A", "P1")].processes == {"热喷涂": "已完成", "镀铬": "暂停"}
    assert (
        lines[("A", "P1")].row["热喷涂"] == "进行中"
    )  # the raw row as received; the overlay is the domain's
    assert lines[("B", "P1")].processes == {}


async def test_a_partial_digest_reads_only_its_contracts(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        assert [x.contract_no for x in await cloud_lines(conn, ["B", "nope"])] == ["B"]
        assert await cloud_lines(conn, []) == []
