"""The outbox on a real PostgreSQL: claim, lease, mark, late commits (DELIVERY.md §3, test R2b)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from common.outbox import Lane, OutboxRow, OutboxStore, add
from tests.support.schemas import plumbing_schema

pytestmark = pytest.mark.integration


def _row(n: int) -> OutboxRow:
    return OutboxRow(uuid.uuid4(), "t.topic.v1", f"k{n}", f"payload {n}".encode(), {"event_id": "x"})


async def test_claimed_rows_are_leased_then_marked_sent() -> None:
    async with plumbing_schema() as (schema, pool):
        async with pool.acquire() as conn, conn.transaction():
            await add(conn, schema, [_row(i) for i in range(5)])
        store = OutboxStore(pool)
        claimed = await store.claim(10)
        assert claimed is not None and [r.key for r in claimed.rows] == [f"k{i}" for i in range(5)]
        assert await store.claim(10) is None  # leased to the first claimer
        await store.mark_sent(claimed)
        assert await store.stats() == (0, 0.0)


async def test_a_rolled_back_transaction_leaves_no_event() -> None:
    async with plumbing_schema() as (schema, pool):
        with pytest.raises(RuntimeError):
            async with pool.acquire() as conn, conn.transaction():
                await add(conn, schema, [_row(1)])
                raise RuntimeError("business change failed")
        assert await OutboxStore(pool).claim(10) is None


async def test_a_late_commit_with_an_earlier_timestamp_is_still_published() -> None:
    async with plumbing_schema() as (schema, pool):
        store = OutboxStore(pool)
        slow = await pool.acquire()
        tx = slow.transaction()
        await tx.start()
        await add(slow, schema, [_row(1)])  # created first, commits last
        async with pool.acquire() as conn, conn.transaction():
            await add(conn, schema, [_row(2)])
        first = await store.claim(10)
        assert first is not None and [r.key for r in first.rows] == ["k2"]
        await store.mark_sent(first)
        await tx.commit()
        await pool.release(slow)
        late = await store.claim(10)
        assert late is not None and [r.key for r in late.rows] == ["k1"]


async def test_a_stale_claim_token_cannot_mark_rows_another_relay_took() -> None:
    async with plumbing_schema() as (schema, pool):
        async with pool.acquire() as conn, conn.transaction():
            await add(conn, schema, [_row(1)])
        store, short = OutboxStore(pool), OutboxStore(pool, lease_s=0.05)
        stale = await short.claim(10)
        await asyncio.sleep(0.1)
        fresh = await store.claim(10)
        assert stale is not None and fresh is not None
        await store.release(stale)  # a no-op: the row now carries the fresh token
        await store.mark_sent(stale)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 0
        await store.mark_sent(fresh)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == 1


async def test_a_priority_lane_claims_only_its_topics_and_the_bulk_lane_the_rest() -> None:
    async with plumbing_schema() as (schema, pool):
        rows = [OutboxRow(uuid.uuid4(), topic, "k", b"x") for topic in ("bulk.v1", "fast.v1", "bulk.v1")]
        async with pool.acquire() as conn, conn.transaction():
            await add(conn, schema, rows)
        store, fast = OutboxStore(pool), frozenset({"fast.v1"})
        priority = await store.claim(10, Lane(fast))
        bulk = await store.claim(10, Lane(fast, outside=True))
        assert priority is not None
        assert [r.topic for r in priority.rows] == ["fast.v1"]
        assert bulk is not None
        assert [r.topic for r in bulk.rows] == ["bulk.v1", "bulk.v1"]
