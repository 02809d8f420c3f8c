"""Issuing access tokens: short-lived EdDSA (Ed25519) JWTs that only ingest can sign.

The signing key comes from a PEM file (`INGEST_TOKEN_SIGNING_KEY_FILE`); its public half, and the public halves
of `INGEST_TOKEN_PUBLISHED_KEY_FILES` (the next key before a rotation, the previous one after it), are served as
a JWKS document that every other service verifies with (common.bearer, common.token_keys).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.token_keys import ALGORITHM, StaticKeySet, jwks, load_private_key, load_public_key, public_jwk


@dataclass(frozen=True)
class SigningKeys:
    signing: Ed25519PrivateKey
    published: tuple[Ed25519PublicKey, ...] = ()

    @classmethod
    def from_files(cls, signing: Path, published: list[Path]) -> SigningKeys:
        """Raises ValueError naming the file when a key cannot be used."""
        return cls(load_private_key(signing), tuple(load_public_key(p) for p in published))

    @property
    def kid(self) -> str:
        return public_jwk(self.signing.public_key())["kid"]

    def public_keys(self) -> list[Ed25519PublicKey]:
        return [self.signing.public_key(), *self.published]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return jwks(self.public_keys())

    def key_set(self) -> StaticKeySet:
        return StaticKeySet(self.public_keys())


class JwtIssuer:
    def __init__(self, keys: SigningKeys, issuer: str, audience: str, ttl_s: int) -> None:
        self.keys, self.issuer, self.audience, self.ttl_s = keys, issuer, audience, ttl_s

    def issue(self, client_id: str, scopes: frozenset[str], version: int) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "client_id": client_id,
            "scope": " ".join(sorted(scopes)),
            "ver": version,  # the client's token version: disable and rotate raise it (common.revocation)
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_s),
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.keys.signing, algorithm=ALGORITHM, headers={"kid": self.keys.kid})
