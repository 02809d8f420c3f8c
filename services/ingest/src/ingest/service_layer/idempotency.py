"""Idempotency-Key handling shared by write endpoints (DELIVERY.md §9), inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.service_layer.errors import IdempotencyKeyReusedError

if TYPE_CHECKING:
    from ingest.service_layer.ports import IdempotencyRepository


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    client_id: str
    key: str
    request_hash: str  # of everything that makes the request what it is (target and body)


async def stored_answer(answers: IdempotencyRepository, req: IdempotentRequest) -> bytes | None:
    """The first answer to this key, or None to go on. A concurrent twin waits here for the first to commit."""
    await answers.lock(req.client_id, req.key)
    stored = await answers.get(req.client_id, req.key)
    if stored is None:
        return None
    if stored.request_hash != req.request_hash:
        raise IdempotencyKeyReusedError(
            "Idempotency-Key 已用于不同的请求 / key was used with another request"
        )
    return stored.body


async def remember(answers: IdempotencyRepository, req: IdempotentRequest, body: bytes) -> None:
    """Store the answer in the same unit of work as the change, so a retry gets exactly these bytes."""
    await answers.add(req.client_id, req.key, req.request_hash, 200, body)
