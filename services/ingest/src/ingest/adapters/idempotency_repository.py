"""SQL for stored Idempotency-Key answers (`ingest.idempotency`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.service_layer.ports import StoredResponse

if TYPE_CHECKING:
    import asyncpg


class PgIdempotencyRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock(self, client_id: str, key: str) -> None:
        """Serialise concurrent requests with one key: the second waits, then sees the first's answer."""
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{client_id}\x1f{key}"
        )

    async def get(self, client_id: str, key: str) -> StoredResponse | None:
        r = await self.conn.fetchrow(
            "SELECT request_hash, status, response FROM idempotency WHERE client_id = $1 AND key = $2",
            client_id,
            key,
        )
        return StoredResponse(r["request_hash"], r["status"], bytes(r["response"])) if r else None

    async def add(self, client_id: str, key: str, request_hash: str, status: int, body: bytes) -> None:
        await self.conn.execute(
            "INSERT INTO idempotency (client_id, key, request_hash, status, response) VALUES ($1,$2,$3,$4,$5)",
            client_id,
            key,
            request_hash,
            status,
            body,
        )
