"""ingest's token check: the common Bearer check, plus client status and the client's own rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from common.bearer import unauthorized, verify_request
from common.openapi import secured
from common.rate_limit import Limit, RateLimiter
from ingest.adapters import repository as repo


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    scopes: frozenset[str]


def require(scope: str) -> Callable[[Request], Awaitable[Caller]]:
    async def dependency(request: Request) -> Caller:
        ctx = request.app.state.ctx
        claims = verify_request(request, ctx.tokens, scope)
        client = await repo.get_client(ctx.pool, claims.client_id)
        if client is None or client.disabled:
            raise unauthorized("invalid_token", "客户端已停用 / client disabled", "invalid_token")
        # The shared per-client limit (common.rate_limit), with this client's limits from its row (the CLI).
        limiter: RateLimiter = request.app.state.rate_limiter
        await limiter.check_client(
            client.client_id, Limit(per_minute=client.rate_per_minute, per_day=client.rate_per_day)
        )
        await ctx.last_seen.touch(client.client_id)
        return Caller(client.client_id, claims.scopes)

    return secured(dependency)
