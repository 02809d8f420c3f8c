"""Reading the change feed in commit-safe order (DELIVERY.md §8: never `updated_at >`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from common.retention import RetentionPolicy
from transform.domain.cursor import START, Position
from transform.domain.line_feed import FeedEntry, FeedWrite, Horizon

if TYPE_CHECKING:
    import asyncpg

__all__ = ["FeedEntry", "FeedWrite", "Horizon", "PostgresFeed", "PostgresFeedReader"]


async def append_feed(conn: asyncpg.Connection, items: list[FeedWrite]) -> None:
    if not items:
        return
    await conn.execute(
        """INSERT INTO change_feed (contract_no, product_id, progress_percentage, current_process, updated_at,
             updated_by, deleted, processes)
           SELECT c, p, pct, cur, at, by, d, pr::jsonb FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[],
             $5::timestamptz[], $6::text[], $7::boolean[], $8::text[]) AS t(c, p, pct, cur, at, by, d, pr)""",
        [i.contract_no for i in items],
        [i.product_id for i in items],
        [i.progress_percentage for i in items],
        [i.current_process for i in items],
        [i.updated_at for i in items],
        [i.updated_by for i in items],
        [i.deleted for i in items],
        [orjson.dumps(i.processes).decode() for i in items],
    )


# Two index lookups (updated_at, recorded_at) rather than one OR, which the planner answers with a scan.
FIRST_CHANGE_SINCE = """
SELECT least(
  (SELECT array[txid::text::bigint, seq] FROM change_feed WHERE updated_at >= $1 ORDER BY txid, seq LIMIT 1),
  (SELECT array[txid::text::bigint, seq] FROM change_feed WHERE recorded_at >= $1 ORDER BY txid, seq LIMIT 1)
) AS first
"""


# The newest position a snapshot sees: every row committed later comes after it (migration 0052).
LAST_POSITION = "SELECT txid::text::bigint AS txid, seq FROM change_feed ORDER BY txid DESC, seq DESC LIMIT 1"


async def read_after(conn: asyncpg.Connection, after: Position, limit: int) -> list[FeedEntry]:
    """Rows past `after`. Feed writers insert one at a time and commit before the next may insert (migration
    0052), so positions follow commit order: whatever a snapshot sees, it sees every row before it."""
    rows = await conn.fetch(
        """SELECT txid::text::bigint AS txid, seq, contract_no, product_id, progress_percentage, current_process,
                  updated_at, updated_by, deleted, processes
           FROM change_feed
           WHERE (txid, seq) > ($1::text::xid8, $2::bigint)
           ORDER BY txid, seq LIMIT $3""",
        str(after.txid),
        after.seq,
        limit,
    )
    return [
        FeedEntry(
            Position(r["txid"], r["seq"]),
            r["contract_no"],
            r["product_id"],
            r["progress_percentage"],
            r["current_process"],
            r["updated_at"],
            r["updated_by"],
            r["deleted"],
            orjson.loads(r["processes"]),
        )
        for r in rows
    ]


async def position_before(conn: asyncpg.Connection, since: datetime, overlap_s: int) -> Position:
    """A timestamp from an old client becomes the position just before the first change it may lack.

    The window is widened by `overlap_s`: duplicates are possible, gaps are not. With no such change yet, the
    newest position: a change a running writer commits later comes after it.
    """
    edge = since - timedelta(seconds=overlap_s)
    row = await conn.fetchrow(FIRST_CHANGE_SINCE, edge)
    assert row is not None
    if row["first"] is not None:
        return Position(row["first"][0], row["first"][1] - 1)
    last = await conn.fetchrow(LAST_POSITION)
    return START if last is None else Position(last["txid"], last["seq"])


async def horizon(conn: asyncpg.Connection) -> Horizon | None:
    row = await conn.fetchrow("SELECT txid::text::bigint AS txid, seq, latest_at FROM change_feed_horizon")
    return Horizon(Position(row["txid"], row["seq"]), row["latest_at"]) if row else None


def retention_policy(feed_days: int) -> RetentionPolicy:
    """Changes older than the horizon go, except each line's newest: a re-sync from the start stays complete.
    "Newest" by seq: a line's writers hold its products row lock, so seq follows their order."""
    return RetentionPolicy(
        "change_feed",
        "recorded_at",
        timedelta(days=feed_days),
        predicate="EXISTS (SELECT 1 FROM change_feed n WHERE n.contract_no = t.contract_no"
        " AND n.product_id = t.product_id AND n.seq > t.seq)",
    )


async def seconds_since_last_change(pool: asyncpg.Pool) -> float:
    age = await pool.fetchval("SELECT extract(epoch FROM now() - max(recorded_at)) FROM change_feed")
    return float(age) if age is not None else 0.0


class PostgresFeed:
    """transform.service_layer.ports.FeedRepository on one connection. Items are written by `flush`, which the
    unit of work calls last before COMMIT: the insert takes the feed's commit-order lock (migration 0052), and
    every other feed writer waits from then until this transaction ends, so nothing else may follow it."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._items: list[FeedWrite] = []

    async def append(self, items: list[FeedWrite]) -> None:
        self._items += items

    async def flush(self) -> None:
        items, self._items = self._items, []
        await append_feed(self._conn, items)


class _Snapshot:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def horizon(self) -> Horizon | None:
        return await horizon(self._conn)

    async def position_before(self, since: datetime, overlap_s: int) -> Position:
        return await position_before(self._conn, since, overlap_s)

    async def read_after(self, after: Position, limit: int) -> list[FeedEntry]:
        return await read_after(self._conn, after, limit)


class PostgresFeedReader:
    """transform.service_layer.ports.FeedReader: one read-only snapshot per page."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[_Snapshot]:
        # One snapshot for the horizon and the page: retention committing in between cannot open a silent gap.
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            yield _Snapshot(conn)
