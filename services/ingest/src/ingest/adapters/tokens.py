"""Issuing access tokens: short-lived HS256 JWTs that every service verifies (common.bearer)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from common.bearer import TokenVerifier


class JwtTokens(TokenVerifier):
    def __init__(self, secret: str, issuer: str, audience: str, ttl_s: int) -> None:
        super().__init__(secret, issuer, audience)
        self.ttl_s = ttl_s

    def issue(self, client_id: str, scopes: frozenset[str]) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "client_id": client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_s),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")
