"""Tokens as ingest signs them (EdDSA, `kid`), for tests that wire a service's routes without ingest.

`TestSigner()` makes its own Ed25519 key; `TestSigner.from_file(path)` uses the stack's signing key (the e2e
auth tests mint expired, wrong-issuer and similar tokens with the real key). `hostile_*` build the tokens an
attacker would try: alg=none, HS256 keyed with the public key, a tampered payload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.bearer import TokenVerifier
from common.token_keys import StaticKeySet, load_private_key, public_jwk

ISSUER, AUDIENCE = "rollsync-ingest", "rollsync"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TestSigner:
    __test__ = False  # not a test class

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()
        self.kid = public_jwk(self.key.public_key())["kid"]

    @classmethod
    def from_file(cls, path: Path) -> TestSigner:
        return cls(load_private_key(path))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(StaticKeySet([self.key.public_key()]), ISSUER, AUDIENCE)

    def claims(self, client_id: str = "ops", scope: str = "admin", **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "ver": 1,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return claims

    def token(self, client_id: str = "ops", scope: str = "admin", **overrides: Any) -> str:
        return jwt.encode(
            self.claims(client_id, scope, **overrides), self.key, algorithm="EdDSA", headers={"kid": self.kid}
        )

    def bearer(self, scope: str = "admin", client_id: str = "ops", **overrides: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client_id, scope, **overrides)}"}

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _unsigned(self, alg: str, claims: dict[str, Any]) -> str:
        header = {"alg": alg, "typ": "JWT", "kid": self.kid}
        return ".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))

    def hostile_alg_none(self, **claims: Any) -> str:
        return self._unsigned("none", self.claims(**claims)) + "."

    def hostile_hs256_with_public_key(self, **claims: Any) -> str:
        """The classic key-confusion forgery (RFC 8725 §2.1): HMAC keyed with the published public key."""
        signing_input = self._unsigned("HS256", self.claims(**claims))
        signature = hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

    def hostile_tampered(self, **claims: Any) -> str:
        """A real signature over other claims: the payload says admin, the signature says otherwise."""
        header, _, signature = self.token(scope="customers:read").split(".")
        payload = _b64(json.dumps(self.claims(**claims), separators=(",", ":")).encode())
        return f"{header}.{payload}.{signature}"
