"""An unrelated long transaction elsewhere in the cluster must not stall the pending-updates feed (issue 8).

The feed once served only rows older than pg_snapshot_xmin(pg_current_snapshot()), which is cluster-wide: a
session idle in transaction in another database or another service's schema held every new change back for as
long as it stayed open. Now only sessions that may write change_feed (this database, INSERT privilege) count.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.support.stack import admin_dsn, service_secret
from transform.adapters.feed import position_before, read_after

pytestmark = pytest.mark.integration
HOLD_S = 5.0  # how long the unrelated transaction stays open; the feed must not wait for it
SERVED_WITHIN_S = 1.0


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


@pytest.mark.parametrize("where", ["other database", "other service's schema"])
async def test_a_change_is_served_while_an_unrelated_transaction_stays_open(where: str) -> None:
    contract = f"STALL{uuid.uuid4().hex[:8]}"
    feed = await asyncpg.connect(admin_dsn(), server_settings={"search_path": "transform"})
    try:
        async with _unrelated_transaction(where):
            cursor = await position_before(feed, datetime.now(UTC), 0)
            await feed.execute(
                "INSERT INTO change_feed (contract_no, product_id, progress_percentage, updated_at, updated_by)"
                " VALUES ($1, 'P1', 50, now(), 'w')",
                contract,
            )
            started, served = time.monotonic(), False
            while not served and time.monotonic() - started < HOLD_S:
                served = any(e.contract_no == contract for e in await read_after(feed, cursor, 1000))
            stall = time.monotonic() - started
        print(f"feed stall with an open transaction in the {where}: {stall:.3f}s (served: {served})")  # noqa: T201
        assert served, f"change not served during the {HOLD_S:.0f}s an unrelated transaction stayed open"
        assert stall < SERVED_WITHIN_S
    finally:
        await feed.close()
