"""SQL for system clients (`ingest.clients`) and their daily row counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.domain.clients import Client
from ingest.service_layer.ports import ClientListing, ClientSeen, Revocation

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

    from ingest.service_layer.ports import NewClient


class PgClientsRepository:
    """On a unit of work's connection, or on the pool for single reads outside one (the token check)."""

    def __init__(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        self.conn = conn

    async def get(self, client_id: str) -> Client | None:
        r = await self.conn.fetchrow("SELECT * FROM clients WHERE client_id = $1", client_id)
        if r is None:
            return None
        return Client(
            r["client_id"],
            r["secret_hash"],
            frozenset(r["scopes"]),
            r["disabled"],
            r["rate_per_minute"],
            r["rate_per_day"],
            r["token_version"],
        )

    async def revocations(self) -> list[Revocation]:
        rows = await self.conn.fetch(
            "SELECT client_id, token_version, disabled FROM clients"
            " WHERE disabled OR token_version > 1 ORDER BY client_id"
        )
        return [Revocation(r["client_id"], r["token_version"], r["disabled"]) for r in rows]

    async def add_daily_rows(self, client_id: str, day_start: datetime, rows: int) -> tuple[bool, int]:
        """Runs in the batch's transaction: a rolled-back batch counts nothing, and the counter's row lock
        orders one client's concurrent batches so two of them cannot both fit into the last rows."""
        r = await self.conn.fetchrow(
            "WITH c AS (SELECT rows_per_day AS lim FROM clients WHERE client_id = $1),"
            " up AS (INSERT INTO rate_counters AS r (bucket, window_start, hits)"
            "  SELECT 'rows:' || $1, $2, $3 FROM c WHERE $3 <= c.lim"
            "  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + EXCLUDED.hits"
            "  WHERE r.hits + EXCLUDED.hits <= (SELECT lim FROM c) RETURNING hits)"
            " SELECT (SELECT lim FROM c) AS lim, EXISTS (SELECT 1 FROM up) AS counted",
            client_id,
            day_start,
            rows,
        )
        return bool(r["counted"]), int(r["lim"] or 0)

    async def record_seen(self, client_id: str) -> None:
        """A heartbeat is not business data: losing the last one in a crash costs nothing, so its
        transaction does not wait for the WAL flush."""
        await self.conn.execute("SET LOCAL synchronous_commit TO off")
        await self.conn.execute(
            "UPDATE clients SET last_seen_at = greatest(last_seen_at, now()) WHERE client_id = $1", client_id
        )

    async def enabled_seen(self) -> list[ClientSeen]:
        rows = await self.conn.fetch(
            "SELECT client_id, scopes, extract(epoch FROM last_seen_at)::float8 AS seen FROM clients"
            " WHERE NOT disabled"
        )
        return [ClientSeen(r["client_id"], frozenset(r["scopes"]), r["seen"]) for r in rows]

    async def create(self, client: NewClient, *, if_missing: bool) -> bool:
        # Without --if-missing an existing id is an error (unique violation), never a silent overwrite.
        status = await self.conn.execute(
            "INSERT INTO clients (client_id, name, secret_hash, scopes, rate_per_minute, rate_per_day, rows_per_day)"
            " SELECT $1, $2, $3, $4, $5, $6, $8 WHERE NOT ($7 AND EXISTS (SELECT 1 FROM clients WHERE client_id = $1))",
            client.client_id,
            client.name,
            client.secret_hash,
            client.scopes,
            client.per_minute,
            client.per_day,
            if_missing,
            client.rows_per_day,
        )
        return bool(status.endswith(" 1"))

    async def listing(self) -> list[ClientListing]:
        rows = await self.conn.fetch("SELECT * FROM clients ORDER BY client_id")
        return [
            ClientListing(
                r["client_id"],
                tuple(r["scopes"]),
                r["disabled"],
                r["rate_per_minute"],
                r["rate_per_day"],
                r["rows_per_day"],
            )
            for r in rows
        ]

    async def set_disabled(self, client_id: str, disabled: bool) -> bool:
        status = await self.conn.execute(
            "UPDATE clients SET disabled = $2 WHERE client_id = $1", client_id, disabled
        )
        return bool(status.endswith(" 1"))

    async def rotate(self, client_id: str, secret_hash: str) -> bool:
        status = await self.conn.execute(
            "UPDATE clients SET secret_hash = $2, rotated_at = now() WHERE client_id = $1",
            client_id,
            secret_hash,
        )
        return bool(status.endswith(" 1"))

    async def set_rows_per_day(self, client_id: str, rows_per_day: int) -> bool:
        status = await self.conn.execute(
            "UPDATE clients SET rows_per_day = $2 WHERE client_id = $1", client_id, rows_per_day
        )
        return bool(status.endswith(" 1"))
