"""No long transaction stalls the pending-updates feed: not an unrelated one (issue 8), not an import (issue 12).

The feed once served only rows older than pg_snapshot_xmin(pg_current_snapshot()), which is cluster-wide: a
session idle in transaction in another database or another service's schema held every new change back for as
long as it stayed open. Then only sessions that may write change_feed counted, and the lines consumer is one: an
import batch holds its transaction id from its inbox row to its commit (hundreds of milliseconds), so every
report committed meanwhile waited for the batch (G7 during an import was 11x the raw chain). Feed rows are now
numbered in commit order (migration 0052): a committed row is served at once, and a row the long transaction
adds at the end still comes after it, never skipped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.support.stack import admin_dsn, service_secret
from transform.adapters.feed import position_before, read_after
from transform.domain.cursor import Position

pytestmark = pytest.mark.integration
HOLD_S = 5.0  # how long the unrelated transaction stays open; the feed must not wait for it
SERVED_WITHIN_S = 1.0
FEED_ROW = (
    "INSERT INTO change_feed (contract_no, product_id, progress_percentage, updated_at, updated_by)"
    " VALUES ($1, 'P1', 50, now(), 'w')"
)


@asynccontextmanager
async def _unrelated_transaction(where: str) -> AsyncIterator[None]:
    """A session idle in transaction, holding an xid, that can never write transform.change_feed."""
    if where == "other database":
        conn = await asyncpg.connect(admin_dsn("postgres"))
    else:  # another service's role and schema, in the feed's own database
        password = service_secret("ingest", "POSTGRES__PASSWORD")
        conn = await asyncpg.connect(admin_dsn().replace("rollsync_admin@", "ingest@"), password=password)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("SELECT pg_current_xact_id()")  # an xid, as any write would take
        yield
        await tx.rollback()
    finally:
        await conn.close()


async def _contracts_after(feed: asyncpg.Connection, cursor: Position) -> set[str]:
    """Every page past `cursor` (rows other tests dated ahead match a `since` of now, and may be many)."""
    seen: set[str] = set()
    while page := await read_after(feed, cursor, 1000):
        seen |= {e.contract_no for e in page}
        cursor = page[-1].position
    return seen


@pytest.mark.parametrize("where", ["other database", "other service's schema"])
async def test_a_change_is_served_while_an_unrelated_transaction_stays_open(where: str) -> None:
    contract = f"STALL{uuid.uuid4().hex[:8]}"
    feed = await asyncpg.connect(admin_dsn(), server_settings={"search_path": "transform"})
    try:
        async with _unrelated_transaction(where):
            cursor = await position_before(feed, datetime.now(UTC), 0)
            await feed.execute(FEED_ROW, contract)
            started, served = time.monotonic(), False
            while not served and time.monotonic() - started < HOLD_S:
                served = contract in await _contracts_after(feed, cursor)
            stall = time.monotonic() - started
        print(f"feed stall with an open transaction in the {where}: {stall:.3f}s (served: {served})")  # noqa: T201
        assert served, f"change not served during the {HOLD_S:.0f}s an unrelated transaction stayed open"
        assert stall < SERVED_WITHIN_S
    finally:
        await feed.close()


async def _connect() -> asyncpg.Connection:
    return await asyncpg.connect(admin_dsn(), server_settings={"search_path": "transform"})


async def _served_within(feed: asyncpg.Connection, cursor: Position, contract: str) -> bool:
    started = time.monotonic()
    while time.monotonic() - started < SERVED_WITHIN_S:
        if contract in await _contracts_after(feed, cursor):
            return True
        await asyncio.sleep(0.01)
    return False


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
        await reporter.execute(FEED_ROW, reported)  # a report commits while the import runs
        assert await _served_within(feed, cursor, reported), "a committed report waited for an import"
        while page := await read_after(feed, cursor, 1000):  # a client reads up to the report, and past it
            cursor = page[-1].position
        await importer.execute(FEED_ROW, imported)
        await tx.commit()
        assert await _served_within(feed, cursor, imported), (
            "the import's row, committed after the report, was skipped by a client already past the report"
        )
    finally:
        for conn in (importer, reporter, feed):
            await conn.close()
