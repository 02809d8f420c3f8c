"""Reading the change feed in commit-safe order (DELIVERY.md §8: never `updated_at >`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from common.retention import RetentionPolicy
from transform.domain.cursor import Position
from transform.domain.line_feed import FeedEntry, FeedWrite, Horizon

if TYPE_CHECKING:
    import asyncpg

__all__ = ["FeedEntry", "FeedWrite", "Horizon", "PostgresFeed", "PostgresFeedReader"]

_MAX_SEQ = 2**62


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


# The feed serves a row only once no transaction that could still add a row before it is running. Not
# pg_snapshot_xmin: that is cluster-wide, so any long transaction anywhere (another database, another service's
# schema, a session idle in transaction) would stall the feed for as long as it stays open. Only sessions in this
# database whose role may insert into change_feed count. The snapshot's xmax is read at the statement's start,
# before pg_stat_activity is scanned: a writer without an xid then gets one >= xmax, so it cannot commit a row
# below the bound. 32-bit backend xids are widened with the epoch of xmax (they are within 2^31 of it).
_WRITERS_BOUND = """
WITH n AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS x8),
writers AS (
  SELECT backend_xid::text::bigint AS x32 FROM pg_stat_activity
  WHERE datname = current_database() AND backend_xid IS NOT NULL
    AND has_table_privilege(usesysid, 'change_feed'::regclass, 'INSERT')
  UNION ALL
  SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database())
SELECT least(n.x8, min(n.x8 + ((w.x32 - n.x8 % 4294967296 + 6442450944) % 4294967296 - 2147483648)))
FROM n LEFT JOIN writers w ON true GROUP BY n.x8
"""


# Two index lookups (updated_at, recorded_at) rather than one OR, which the planner answers with a scan.
FIRST_CHANGE_SINCE = """
SELECT least(
  (SELECT array[txid::text::bigint, seq] FROM change_feed WHERE updated_at >= $1 ORDER BY txid, seq LIMIT 1),
  (SELECT array[txid::text::bigint, seq] FROM change_feed WHERE recorded_at >= $1 ORDER BY txid, seq LIMIT 1)
) AS first
"""


async def writers_bound(conn: asyncpg.Connection) -> int:
    """The txid below which every feed writer has finished. Run it in a statement of its own BEFORE the read:
    a writer that ends after this scan is then either counted here or visible to the read's later snapshot."""
    return int(await conn.fetchval(_WRITERS_BOUND))


async def read_after(
    conn: asyncpg.Connection, after: Position, limit: int, bound: int | None = None
) -> list[FeedEntry]:
    """Rows past `after` from transactions older than every feed writer still running."""
    if bound is None:
        bound = await writers_bound(conn)
    rows = await conn.fetch(
        """SELECT txid::text::bigint AS txid, seq, contract_no, product_id, progress_percentage, current_process,
                  updated_at, updated_by, deleted, processes
           FROM change_feed
           WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < $4::text::xid8
           ORDER BY txid, seq LIMIT $3""",
        str(after.txid),
        after.seq,
        limit,
        str(bound),
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


async def position_before(
    conn: asyncpg.Connection, since: datetime, overlap_s: int, bound: int | None = None
) -> Position:
    """A timestamp from an old client becomes the position just before the first change it may lack.

    The window is widened by `overlap_s`: duplicates are possible, gaps are not.
    """
    if bound is None:
        bound = await writers_bound(conn)
    edge = since - timedelta(seconds=overlap_s)
    row = await conn.fetchrow(FIRST_CHANGE_SINCE, edge)
    assert row is not None
    # A feed writer still running may yet commit a matching change: stay before all of them too.
    before_running = Position(bound - 1, _MAX_SEQ)
    if row["first"] is None:
        return before_running
    first = Position(row["first"][0], row["first"][1] - 1)
    return min(first, before_running)


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
    """transform.service_layer.ports.FeedRepository on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def append(self, items: list[FeedWrite]) -> None:
        await append_feed(self._conn, items)


class _Snapshot:
    def __init__(self, conn: asyncpg.Connection, bound: int) -> None:
        self._conn, self._bound = conn, bound

    async def horizon(self) -> Horizon | None:
        return await horizon(self._conn)

    async def position_before(self, since: datetime, overlap_s: int) -> Position:
        return await position_before(self._conn, since, overlap_s, self._bound)

    async def read_after(self, after: Position, limit: int) -> list[FeedEntry]:
        return await read_after(self._conn, after, limit, self._bound)


class PostgresFeedReader:
    """transform.service_layer.ports.FeedReader: the writers' bound first, then one read-only snapshot."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[_Snapshot]:
        async with self._pool.acquire() as conn:
            bound = await writers_bound(conn)  # before the read's snapshot (see writers_bound)
            # One snapshot for the horizon and the page: retention committing in between cannot open a silent gap.
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                yield _Snapshot(conn, bound)
