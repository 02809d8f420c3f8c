"""Verifying Bearer access tokens (RFC 6750) for any service's routes. Issuing stays in ingest.

Tokens are EdDSA (Ed25519) JWTs signed by ingest alone; every other service holds only public keys, read from
ingest's JWKS document (`common.token_keys`), and ingest's revocation list (`common.revocation`). The algorithm is
an allow-list of one: alg=none, HS256 (say, keyed with the public key) or anything else is refused before a key
is even looked up (RFC 8725 §3.1, §3.2).

Routes declare what they need with `Annotated[TokenClaims, require_scope("sync:read")]`: a FastAPI `Security`
dependency, so each operation of the OpenAPI document carries its Bearer security requirement and scope.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import jwt
from fastapi import Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security import SecurityScopes
from fastapi.security.base import SecurityBase
from prometheus_client import Gauge

from common.openapi import secured
from common.rate_limit import enforce_client_limit
from common.revocation import RevocationPoller, RevocationsUnavailableError, RevokedError
from common.token_keys import ALGORITHM, KeySet, KeysUnavailableError, RemoteKeySet
from common.web import ApiError

if TYPE_CHECKING:
    from common.metrics import Metrics
    from common.settings import TokenVerifierSettingsMixin

REALM = 'Bearer realm="rollsync"'
ALGORITHMS = [ALGORITHM]  # allow-list: alg=none or any other algorithm is refused (RFC 8725 §3.1)
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "client_id", "scope", "ver"]
SCHEME_NAME = "bearerAuth"
ADMIN = "admin"  # holds every scope
LEEWAY_S = 30  # clock skew allowed on exp and nbf
VERIFIED_TOKENS_KEPT = 4096  # a few per client; the oldest is forgotten first


class TokenError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TokenClaims:
    client_id: str
    scopes: frozenset[str]
    version: int = 1


@dataclass(frozen=True, slots=True)
class _Verified:
    claims: TokenClaims
    kid: str
    key: object  # the key object that checked the signature; a refetched or retired key is another object
    expires: float  # exp + leeway, epoch seconds


class TokenVerifier:
    """Checks signature (by `kid`), algorithm, time, issuer, audience and, when given, revocation.

    A client sends the same token for up to 15 minutes, and checking an Ed25519 signature was the largest
    single cost of a feed poll. So a token that passed is remembered (the exact string, signature included)
    until its exp + leeway, and only while its `kid` still gives the same key; revocation is checked on every
    request all the same.
    """

    def __init__(
        self,
        keys: KeySet,
        issuer: str,
        audience: str,
        revocations: RevocationPoller | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys, self.issuer, self.audience = keys, issuer, audience
        self.revocations, self._http, self._clock = revocations, http, clock
        self._verified: dict[str, _Verified] = {}

    async def verify(self, token: str) -> TokenClaims:
        result = await self._claims(token)
        if self.revocations is not None:
            try:
                self.revocations.check(result.client_id, result.version)
            except RevokedError as exc:
                raise TokenError(str(exc)) from exc
        return result

    async def _claims(self, token: str) -> TokenClaims:
        known = self._verified.get(token)
        if known is not None:
            if self._clock() >= known.expires:
                del self._verified[token]
                raise TokenError("Signature has expired")  # PyJWT's words, as a fresh check would say
            if await self.keys.key(known.kid) is known.key:
                return known.claims
            del self._verified[token]  # the key was refetched or retired: check the token afresh
        claims, kid, key = await self._decode(token)
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise TokenError("claim ver is not an integer")
        result = TokenClaims(str(claims["client_id"]), frozenset(str(claims["scope"]).split()), version)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest first
        self._verified[token] = _Verified(result, kid, key, float(claims["exp"]) + LEEWAY_S)
        return result

    async def _decode(self, token: str) -> tuple[dict[str, Any], str, object]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if header.get("alg") not in ALGORITHMS:
            raise TokenError(f"algorithm {header.get('alg')!r} is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("no key id (kid) in the token header")
        key = await self.keys.key(kid)
        if key is None:
            raise TokenError("unknown key id")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        return claims, kid, key

    def start(self) -> None:
        if self.revocations is not None:
            self.revocations.start()

    async def close(self) -> None:
        if self.revocations is not None:
            await self.revocations.stop()
        if self._http is not None:
            await self._http.aclose()


def revocations_url(jwks_url: str) -> str:
    """Ingest serves its revocation list beside its JWKS document."""
    origin = httpx.URL(jwks_url).copy_with(path="/", query=None, fragment=None)
    return str(origin.join("/internal/token-revocations"))


def remote_verifier(settings: TokenVerifierSettingsMixin, metrics: Metrics | None = None) -> TokenVerifier:
    """A verifier for a service that is not ingest: public keys and revocations from ingest over HTTP.

    With `metrics`, `rollsync_token_revocations_age_seconds` says how old the revocation list is (past
    TOKEN_REVOCATIONS_MAX_STALE_S every authenticated request is answered 503).
    """
    http = httpx.AsyncClient(timeout=httpx.Timeout(3.0), follow_redirects=False, trust_env=False)
    keys = RemoteKeySet(
        settings.token_jwks_url,
        http,
        max_age_s=settings.token_jwks_max_age_s,
        min_refetch_s=settings.token_jwks_min_refetch_s,
    )
    revocations = RevocationPoller(
        settings.token_revocations_url or revocations_url(settings.token_jwks_url),
        http,
        poll_s=settings.token_revocations_poll_s,
        max_stale_s=settings.token_revocations_max_stale_s,
    )
    if metrics is not None:
        age = Gauge(
            "rollsync_token_revocations_age_seconds",
            "Seconds since the token revocation list was last read from ingest",
            registry=metrics.registry,
        )

        async def refresh() -> None:
            age.set(min(revocations.age_s(), 1e9))

        metrics.on_scrape(refresh)
    return TokenVerifier(keys, settings.token_issuer, settings.token_audience, revocations, http)


def unauthorized(code: str, message: str, error: str | None = None) -> ApiError:
    challenge = f'{REALM}, error="{error}"' if error else REALM
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def _unavailable(exc: Exception) -> ApiError:
    return ApiError(
        503,
        "service_unavailable",
        f"暂时无法校验令牌，请稍后重试 / cannot check tokens right now: {exc}",
        headers={"Retry-After": "2"},
    )


def insufficient_scope(scopes: list[str]) -> ApiError:
    wanted = " ".join(scopes)
    return ApiError(
        403,
        "insufficient_scope",
        f"需要权限 {wanted} / scope {wanted} required",
        headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{wanted}"'},
    )


async def verify_request(request: Request, verifier: TokenVerifier, scopes: list[str]) -> TokenClaims:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise unauthorized("missing_token", "需要 Bearer 令牌 / a Bearer token is required")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized(
            "invalid_request", "Authorization 头格式错误 / malformed Authorization", "invalid_request"
        )
    try:
        claims = await verifier.verify(token.strip())
    except TokenError as exc:
        raise unauthorized(
            "invalid_token", f"令牌无效或已过期 / invalid or expired token: {exc}", "invalid_token"
        ) from exc
    except (KeysUnavailableError, RevocationsUnavailableError) as exc:
        raise _unavailable(exc) from exc
    if ADMIN not in claims.scopes and not set(scopes) <= claims.scopes:
        raise insufficient_scope(scopes)
    return claims


def app_verifier(request: Request) -> TokenVerifier:
    """Every service's composition root puts its verifier at `app.state.ctx.tokens`."""
    verifier: TokenVerifier = request.app.state.ctx.tokens
    return verifier


class BearerAuth(SecurityBase):
    """The Bearer scheme as a FastAPI security dependency: checks the token against the route's scopes."""

    def __init__(
        self, verifier: Callable[[Request], TokenVerifier] = app_verifier, *, limit_clients: bool = True
    ) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description=(
                "An EdDSA-signed access token from `POST /auth/system-login` (ingest; public keys at "
                "`/.well-known/jwks.json`). Each operation lists the scope it needs; the `admin` scope "
                "holds every scope."
            ),
        )
        self.scheme_name = SCHEME_NAME
        self._verifier = verifier
        self._limit_clients = limit_clients  # False: the service limits each client itself (ingest, per row)

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> TokenClaims:
        claims = await verify_request(request, self._verifier(request), security_scopes.scopes)
        if self._limit_clients:
            await enforce_client_limit(request, claims.client_id)  # the shared per-client limit (429)
        return claims


# marked: its operations document 401/403/429 (common.openapi)
BEARER = secured(BearerAuth())


def require_scope(scope: str, scheme: BearerAuth = BEARER) -> Any:
    """`Annotated[TokenClaims, require_scope("admin")]`: the token must hold `scope` (or `admin`)."""
    return Security(scheme, scopes=[scope])


def admin_alternatives(document: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI: a requirement {bearerAuth: [s]} is also met by {bearerAuth: [admin]}; say so per operation."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            security = operation.get("security") if isinstance(operation, dict) else None
            if security and {SCHEME_NAME: [ADMIN]} not in security:
                security.append({SCHEME_NAME: [ADMIN]})
    return document
