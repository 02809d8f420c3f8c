"""erp_customer_hashes: a content hash per pulled customer, and the lock that keeps one pull running."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from erp_connector.adapters.sql_values import as_json

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg

    from erp_connector.domain.hashes import HashWrite

PULL_LOCK = 0x65727070  # "erpp": one pull at a time across replicas


class PostgresPullLock:
    """A session advisory lock on a connection of its own, held for the whole scan."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[bool]:
        async with self._pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", PULL_LOCK):
                yield False
                return
            try:
                yield True
            finally:
                await _unlock(conn)


async def _unlock(conn: asyncpg.Connection) -> None:
    # Pooled sessions are not reset on release (common.db): a session that may still hold the lock must end.
    try:
        await conn.execute("SELECT pg_advisory_unlock($1)", PULL_LOCK)
    except BaseException:
        conn.terminate()
        raise


class PostgresHashes:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def next_scan_id(self) -> int:
        return int(await self._conn.fetchval("SELECT nextval('erp_pull_scan_seq')"))

    async def stored(self, erp_ids: list[int]) -> dict[int, tuple[str, int]]:
        rows = await self._conn.fetch(
            "SELECT erp_id, content_hash, version FROM erp_customer_hashes WHERE erp_id = any($1::bigint[])",
            erp_ids,
        )
        return {r["erp_id"]: (r["content_hash"], r["version"]) for r in rows}

    async def upsert(self, writes: list[HashWrite], scan: int) -> None:
        if not writes:
            return
        await self._conn.executemany(
            """
            INSERT INTO erp_customer_hashes (erp_id, code, name, content_hash, version, fields, raw, last_seen_scan)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)
            ON CONFLICT (erp_id) DO UPDATE SET code = excluded.code, name = excluded.name,
              content_hash = excluded.content_hash, version = excluded.version, fields = excluded.fields,
              raw = excluded.raw, last_seen_scan = excluded.last_seen_scan, last_seen_at = now(),
              changed_at = now(), visible = true, missed_scans = 0, not_visible_since = NULL
            """,
            [
                (
                    w.customer.erp_id,
                    w.customer.code,
                    w.customer.name,
                    w.customer.content_hash,
                    w.version,
                    as_json(w.customer.fields()),
                    as_json(dict(w.customer.raw)),
                    scan,
                )
                for w in writes
            ],
        )

    async def touch_seen(self, erp_ids: list[int], scan: int) -> None:
        if erp_ids:
            await self._conn.execute(
                "UPDATE erp_customer_hashes SET last_seen_scan = $2, last_seen_at = now(), visible = true,"
                " missed_scans = 0, not_visible_since = NULL WHERE erp_id = any($1::bigint[])",
                erp_ids,
                scan,
            )

    async def mark_unseen(self, scan: int, after_scans: int) -> int:
        """After a complete scan: count a miss for every ord it did not see; flag, never delete."""
        await self._conn.execute(
            "UPDATE erp_customer_hashes SET missed_scans = missed_scans + 1"
            " WHERE last_seen_scan < $1 AND visible",
            scan,
        )
        flagged = await self._conn.fetchval(
            """
            WITH f AS (UPDATE erp_customer_hashes SET visible = false, not_visible_since = now()
                       WHERE visible AND missed_scans >= $1 RETURNING 1)
            SELECT count(*) FROM f
            """,
            after_scans,
        )
        return int(flagged)

    async def counts(self) -> dict[str, int]:
        row = await self._conn.fetchrow(
            "SELECT count(*) FILTER (WHERE visible) AS visible, count(*) FILTER (WHERE NOT visible) AS not_visible"
            " FROM erp_customer_hashes"
        )
        assert row is not None
        return {"visible": int(row["visible"]), "not_visible": int(row["not_visible"])}
