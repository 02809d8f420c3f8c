"""Reading the change feed in commit-safe order (DELIVERY.md §8: never `updated_at >`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from transform.domain.cursor import Position

if TYPE_CHECKING:
    import asyncpg

_MAX_SEQ = 2**62


@dataclass(frozen=True, slots=True)
class FeedEntry:
    position: Position
    contract_no: str
    product_id: str
    progress_percentage: Decimal
    current_process: str | None
    updated_at: datetime
    updated_by: str
    deleted: bool
    processes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedWrite:
    contract_no: str
    product_id: str
    progress_percentage: Decimal
    current_process: str | None
    updated_at: datetime
    updated_by: str
    deleted: bool = False
    processes: dict[str, Any] = field(default_factory=dict)  # full effective state, never a diff


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


async def read_after(conn: asyncpg.Connection, after: Position, limit: int) -> list[FeedEntry]:
    """Rows past `after`, only from transactions older than every one still running."""
    rows = await conn.fetch(
        """SELECT txid::text::bigint AS txid, seq, contract_no, product_id, progress_percentage, current_process,
                  updated_at, updated_by, deleted, processes
           FROM change_feed
           WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < pg_snapshot_xmin(pg_current_snapshot())
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

    The window is widened by `overlap_s`: duplicates are possible, gaps are not.
    """
    edge = since - timedelta(seconds=overlap_s)
    row = await conn.fetchrow(
        """SELECT (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint) AS xmin,
                  (SELECT array[txid::text::bigint, seq] FROM change_feed WHERE updated_at >= $1 OR recorded_at >= $1
                   ORDER BY txid, seq LIMIT 1) AS first""",
        edge,
    )
    assert row is not None
    # A transaction still running may yet commit a matching change: stay before all of them too.
    before_running = Position(int(row["xmin"]) - 1, _MAX_SEQ)
    if row["first"] is None:
        return before_running
    first = Position(row["first"][0], row["first"][1] - 1)
    return min(first, before_running)


async def seconds_since_last_change(pool: asyncpg.Pool) -> float:
    age = await pool.fetchval("SELECT extract(epoch FROM now() - max(recorded_at)) FROM change_feed")
    return float(age) if age is not None else 0.0
