"""A long import transaction must not hold back a worker's report in the pending-updates feed (issue 12, G7).

The feed once served a row only below the oldest running transaction that could write change_feed. The lines
consumer is such a writer, and an import batch holds its transaction id from its inbox row to its commit
(hundreds of milliseconds), so every report committed meanwhile waited for the batch: G7 during an import was
11x the raw chain. Feed rows are now numbered in commit order (migration 0005): a committed row is served at
once, and a row the long transaction adds at the end still comes after it, never skipped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.support.stack import admin_dsn
from transform.adapters.feed import position_before, read_after
from transform.domain.cursor import Position

pytestmark = pytest.mark.integration
SERVED_WITHIN_S = 1.0
FEED_ROW = (
    "INSERT INTO change_feed (contract_no, product_id, progress_percentage, updated_at, updated_by)"
    " VALUES ($1, $2, 50, now(), 'w')"
)


async def _connect() -> asyncpg.Connection:
    return await asyncpg.connect(admin_dsn(), server_settings={"search_path": "transform"})


async def _served_within(
    feed: asyncpg.Connection, cursor: Position, contract: str, timeout_s: float
) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if any(e.contract_no == contract for e in await read_after(feed, cursor, 1000)):
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    return None


async def test_a_report_is_served_while_an_import_transaction_runs_and_the_import_row_follows_it() -> None:
    tag = uuid.uuid4().hex[:8]
    imported, reported = f"IMP{tag}", f"REP{tag}"
    importer, reporter, feed = await _connect(), await _connect(), await _connect()
    try:
        cursor = await position_before(feed, datetime.now(UTC), 0)
        tx = importer.transaction()
        await tx.start()
        # As the lines consumer: its xid from the inbox row, line writes, and the feed row last, at commit.
        await importer.execute("SELECT pg_current_xact_id()")
        await reporter.execute(FEED_ROW, reported, "P1")  # a report commits while the import runs
        waited = await _served_within(feed, cursor, reported, SERVED_WITHIN_S)
        assert waited is not None, "a committed report waited for a running import transaction"
        seen = [e for e in await read_after(feed, cursor, 1000) if e.contract_no in (imported, reported)]
        await importer.execute(FEED_ROW, imported, "P1")
        await tx.commit()
        cursor = seen[-1].position
        assert await _served_within(feed, cursor, imported, SERVED_WITHIN_S) is not None, (
            "the import's row, committed after the report, was skipped by a client already past the report"
        )
    finally:
        for conn in (importer, reporter, feed):
            await conn.close()
