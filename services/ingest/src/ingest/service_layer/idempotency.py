"""Idempotency-Key handling shared by write endpoints (DELIVERY.md §9), inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.adapters import repository as repo
from ingest.service_layer.errors import IdempotencyKeyReusedError

if TYPE_CHECKING:
    import asyncpg


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    client_id: str
    key: str
    request_hash: str  # of everything that makes the request what it is (target and body)


async def stored_answer(conn: asyncpg.Connection, req: IdempotentRequest) -> bytes | None:
    """The first answer to this key, or None to go on. A concurrent twin waits here for the first to commit."""
    await repo.lock_idempotency_key(conn, req.client_id, req.key)
    stored = await repo.stored_response(conn, req.client_id, req.key)
    if stored is None:
        return None
    if stored.request_hash != req.request_hash:
        raise IdempotencyKeyReusedError(
            "Idempotency-Key 已用于不同的请求 / key was used with another request"
        )
    return stored.body


async def remember(conn: asyncpg.Connection, req: IdempotentRequest, body: bytes) -> None:
    """Store the answer in the same transaction as the change, so a retry gets exactly these bytes."""
    await repo.store_response(conn, req.client_id, req.key, req.request_hash, 200, body)
