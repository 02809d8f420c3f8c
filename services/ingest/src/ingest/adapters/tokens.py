"""Access tokens: short-lived HS256 JWTs with an algorithm allow-list (DELIVERY.md §11)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt


class TokenError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TokenClaims:
    client_id: str
    scopes: frozenset[str]


class JwtTokens:
    def __init__(self, secret: str, issuer: str, audience: str, ttl_s: int) -> None:
        self._secret, self._issuer, self._audience, self.ttl_s = secret, issuer, audience, ttl_s

    def issue(self, client_id: str, scopes: frozenset[str]) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": client_id,
            "client_id": client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_s),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self._audience,
                issuer=self._issuer,
                leeway=30,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "client_id", "scope"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        return TokenClaims(str(claims["client_id"]), frozenset(str(claims["scope"]).split()))
