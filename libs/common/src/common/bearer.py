"""Verifying Bearer access tokens (RFC 6750) for any service's routes. Issuing stays in ingest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt
from fastapi import Request

from common.openapi import secured
from common.rate_limit import enforce_client_limit
from common.web import ApiError

REALM = 'Bearer realm="rollsync"'
ALGORITHMS = ["HS256"]  # allow-list: alg=none or any other algorithm is refused (RFC 8725 §3.1)


class TokenError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TokenClaims:
    client_id: str
    scopes: frozenset[str]


class TokenVerifier:
    def __init__(self, secret: str, issuer: str, audience: str) -> None:
        self._secret, self.issuer, self.audience = secret, issuer, audience

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=30,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "client_id", "scope"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        return TokenClaims(str(claims["client_id"]), frozenset(str(claims["scope"]).split()))


def unauthorized(code: str, message: str, error: str | None = None) -> ApiError:
    challenge = f'{REALM}, error="{error}"' if error else REALM
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def verify_request(request: Request, verifier: TokenVerifier, scope: str) -> TokenClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise unauthorized("missing_token", "需要 Bearer 令牌 / a Bearer token is required")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized(
            "invalid_request", "Authorization 头格式错误 / malformed Authorization", "invalid_request"
        )
    try:
        claims = verifier.verify(token.strip())
    except TokenError as exc:
        raise unauthorized(
            "invalid_token", f"令牌无效或已过期 / invalid or expired token: {exc}", "invalid_token"
        ) from exc
    if scope not in claims.scopes and "admin" not in claims.scopes:
        raise ApiError(
            403,
            "insufficient_scope",
            f"需要权限 {scope} / scope {scope} required",
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
        )
    return claims


def app_verifier(request: Request) -> TokenVerifier:
    """Every service's composition root puts its verifier at `app.state.ctx.tokens`."""
    verifier: TokenVerifier = request.app.state.ctx.tokens
    return verifier


def require_scope(
    scope: str, verifier: Callable[[Request], TokenVerifier] = app_verifier
) -> Callable[[Request], Awaitable[TokenClaims]]:
    async def dependency(request: Request) -> TokenClaims:
        claims = verify_request(request, verifier(request), scope)
        await enforce_client_limit(request, claims.client_id)  # the shared per-client limit (429)
        return claims

    return secured(dependency)
