"""The pending-updates feed never skips a change that commits late (DELIVERY.md §8, test R2b)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.support.stack import admin_dsn
from transform.adapters.feed import position_before, read_after
from transform.domain.cursor import START

pytestmark = pytest.mark.integration
WRITERS, ROWS_EACH = 20, 10


async def _writer(pool: asyncpg.Pool, prefix: str, n: int, rng: random.Random, xid_first: bool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        if xid_first:  # as a consumer does: its inbox row takes the xid well before the first feed row
            await conn.execute("SELECT pg_current_xact_id()")
            await asyncio.sleep(rng.uniform(0, 0.3))
        for i in range(ROWS_EACH):
            await conn.execute(
                "INSERT INTO change_feed (contract_no, product_id, progress_percentage, current_process, updated_at,"
                " updated_by) VALUES ($1, $2, 50, '检验', now(), 'w')",
                f"{prefix}{n}",
                f"P{i}",
            )
        await asyncio.sleep(rng.uniform(0, 0.5))  # commit late, after others with larger sequence numbers


@pytest.mark.parametrize("xid_first", [False, True], ids=["xid-at-first-feed-row", "xid-taken-earlier"])
async def test_paging_while_writers_commit_out_of_order_sees_every_change_once(xid_first: bool) -> None:
    prefix, rng = f"FEED{uuid.uuid4().hex[:6]}-", random.Random(7)
    pool = await asyncpg.create_pool(
        admin_dsn(), min_size=2, max_size=WRITERS + 2, server_settings={"search_path": "transform"}
    )
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            cursor = await position_before(conn, datetime.now(UTC), 0)
        writers = asyncio.gather(*(_writer(pool, prefix, n, rng, xid_first) for n in range(WRITERS)))
        seen: list[int] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with pool.acquire() as conn:
                page = await read_after(conn, cursor, 7)
            seen += [e.position.seq for e in page if e.contract_no.startswith(prefix)]
            cursor = page[-1].position if page else cursor
            if writers.done() and len(seen) >= WRITERS * ROWS_EACH:
                break
            await asyncio.sleep(0.01)
        await writers
        expected = await pool.fetch("SELECT seq FROM change_feed WHERE contract_no LIKE $1", prefix + "%")
        assert len(seen) == len(set(seen)) == WRITERS * ROWS_EACH
        assert set(seen) == {r["seq"] for r in expected}
    finally:
        await pool.close()


async def test_reading_from_the_start_is_ordered_by_transaction() -> None:
    conn = await asyncpg.connect(admin_dsn(), server_settings={"search_path": "transform"})
    try:
        page = await read_after(conn, START, 50)
    finally:
        await conn.close()
    positions = [e.position for e in page]
    assert positions == sorted(positions)
