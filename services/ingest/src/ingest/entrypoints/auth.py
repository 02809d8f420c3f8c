"""ingest's token check: the common Bearer check, plus client status, token version and the client's own rate
limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request, Security

from common.bearer import BearerAuth, TokenClaims, unauthorized
from common.openapi import secured
from common.rate_limit import Limit, RateLimiter
from ingest.adapters import repository as repo


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    scopes: frozenset[str]


# The common Bearer check without the shared per-client limit: ingest limits each client by its own row below.
BEARER = secured(BearerAuth(limit_clients=False))


async def _caller(request: Request, claims: Annotated[TokenClaims, Security(BEARER)]) -> Caller:
    """Signature, time, issuer, audience and scope are checked by BEARER; the client's row is ingest's own."""
    ctx = request.app.state.ctx
    client = await repo.get_client(ctx.pool, claims.client_id)
    if client is None or client.disabled:
        raise unauthorized("invalid_token", "客户端已停用 / client disabled", "invalid_token")
    if claims.version < client.token_version:
        raise unauthorized(
            "invalid_token", "令牌已被吊销（密钥已轮换）/ token revoked: secret rotated", "invalid_token"
        )
    # The shared per-client limit (common.rate_limit), with this client's limits from its row (the CLI).
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.check_client(
        client.client_id, Limit(per_minute=client.rate_per_minute, per_day=client.rate_per_day)
    )
    await ctx.last_seen.touch(client.client_id)
    return Caller(client.client_id, claims.scopes)


def require(scope: str) -> Any:
    """`Annotated[Caller, require("contracts:write")]`; the scope shows in the OpenAPI document."""
    return Security(_caller, scopes=[scope])
