"""ingest's token check: the common Bearer check, plus client status, token version and rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request, Security

from common.bearer import BEARER, TokenClaims, unauthorized
from common.web import ApiError
from ingest.adapters import repository as repo
from ingest.service_layer.access import RateLimitedError, check_rate


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    scopes: frozenset[str]


def rate_limited(exc: RateLimitedError) -> ApiError:
    unit = "分钟" if exc.window == "minute" else "天"
    return ApiError(
        429,
        "rate_limited",
        f"请求过于频繁（每{unit}限额），{exc.retry_after_s} 秒后重试 / rate limit per {exc.window} exceeded",
        headers={"Retry-After": str(exc.retry_after_s)},
    )


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
    try:
        await check_rate(ctx.pool, f"client:{client.client_id}", client.rate_per_minute, client.rate_per_day)
    except RateLimitedError as exc:
        raise rate_limited(exc) from exc
    await ctx.last_seen.touch(client.client_id)
    return Caller(client.client_id, claims.scopes)


def require(scope: str) -> Any:
    """`Annotated[Caller, require("contracts:write")]`; the scope shows in the OpenAPI document."""
    return Security(_caller, scopes=[scope])
