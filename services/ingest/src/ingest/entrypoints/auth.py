"""Bearer-token checks as RFC 6750 describes them (401 invalid_token, 403 insufficient_scope)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from common.web import ApiError
from fastapi import Request

from ingest.adapters import repository as repo
from ingest.adapters.tokens import TokenError
from ingest.service_layer.access import RateLimitedError, check_rate

REALM = 'Bearer realm="rollsync"'


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    scopes: frozenset[str]


def _unauthorized(code: str, message: str, error: str | None = None) -> ApiError:
    challenge = f'{REALM}, error="{error}"' if error else REALM
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def rate_limited(exc: RateLimitedError) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"请求过于频繁（每{'分钟' if exc.window == 'minute' else '天'}限额）"
        f"，{exc.retry_after_s} 秒后重试 / rate limit per {exc.window} exceeded",
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def require(scope: str) -> Callable[[Request], Awaitable[Caller]]:
    async def dependency(request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise _unauthorized("missing_token", "需要 Bearer 令牌 / a Bearer token is required")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized(
                "invalid_request", "Authorization 头格式错误 / malformed Authorization", "invalid_request"
            )
        state = request.app.state.ctx
        try:
            claims = state.tokens.verify(token.strip())
        except TokenError as exc:
            raise _unauthorized(
                "invalid_token", f"令牌无效或已过期 / invalid or expired token: {exc}", "invalid_token"
            ) from exc
        client = await repo.get_client(state.pool, claims.client_id)
        if client is None or client.disabled:
            raise _unauthorized("invalid_token", "客户端已停用 / client disabled", "invalid_token")
        if scope not in claims.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"需要权限 {scope} / scope {scope} required",
                headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
            )
        try:
            await check_rate(
                state.pool, f"client:{client.client_id}", client.rate_per_minute, client.rate_per_day
            )
        except RateLimitedError as exc:
            raise rate_limited(exc) from exc
        return Caller(client.client_id, claims.scopes)

    return dependency
