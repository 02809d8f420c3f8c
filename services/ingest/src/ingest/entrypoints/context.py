"""What routes get from the composition root (bootstrap.py), as typed FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from common.rate_limit import RateLimiter

if TYPE_CHECKING:
    from common.bearer import TokenVerifier
    from ingest.adapters.tokens import JwtIssuer
    from ingest.config import Settings
    from ingest.domain.capture import Capture
    from ingest.domain.clients import Client
    from ingest.domain.progress import ProgressReport
    from ingest.service_layer.access import LoginLimits
    from ingest.service_layer.batches import UploadBatch
    from ingest.service_layer.heartbeat import LastSeen
    from ingest.service_layer.idempotency import IdempotentRequest
    from ingest.service_layer.ports import LoginThrottle, Revocation


@dataclass(frozen=True, slots=True)
class IngestContext:
    """`app.state.ctx`: settings, token keys and the handlers with their collaborators bound."""

    settings: Settings
    tokens: TokenVerifier  # common.bearer reads it here; client status and version: `token_client`
    issuer: JwtIssuer
    last_seen: LastSeen
    login: Callable[[LoginThrottle, tuple[str, str], str, LoginLimits], Awaitable[tuple[str, Client]]]
    token_client: Callable[[str, int], Awaitable[Client]]
    revocations: Callable[[], Awaitable[list[Revocation]]]
    upload_batch: Callable[[UploadBatch], Awaitable[bytes]]
    report_progress: Callable[[ProgressReport, str, str, IdempotentRequest | None], Awaitable[bytes]]
    upload_employees: Callable[[list[object], str, IdempotentRequest | None, str], Awaitable[bytes]]
    capture_customer: Callable[[Capture, str, str], Awaitable[dict[str, Any]]]


async def _context(request: Request) -> IngestContext:
    ctx: IngestContext = request.app.state.ctx
    return ctx


async def _rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


Ctx = Annotated[IngestContext, Depends(_context)]
Limiter = Annotated[RateLimiter, Depends(_rate_limiter)]
