"""Ed25519 token keys as JWKs (RFC 8037), named by their RFC 7638 thumbprint, and where a verifier finds them.

Ingest alone holds a private key; it publishes the public halves at `/.well-known/jwks.json`. Every other
service reads that document (`RemoteKeySet`): cached, refreshed every `max_age_s` so a retired key stops being
trusted, and fetched again when a token names a key id it does not know (at most once per `min_refetch_s`, so
made-up key ids cannot turn into a flood of requests to ingest).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import stat
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

ALGORITHM = "EdDSA"


class KeysUnavailableError(Exception):
    """The key set could not be read (ingest unreachable, or an unusable document): not the token's fault."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as an OKP JWK with `kid` = its RFC 7638 thumbprint (members crv, kty, x in that order)."""
    x = _b64url(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    required = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    kid = _b64url(hashlib.sha256(required.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def key_from_jwk(jwk: dict[str, Any]) -> tuple[str, Ed25519PublicKey]:
    """(kid, key) from a JWK; the kid must be the key's own thumbprint, so a document cannot rename a key."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise ValueError("not an Ed25519 OKP key")
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    key = Ed25519PublicKey.from_public_bytes(raw)
    kid = public_jwk(key)["kid"]
    if jwk.get("kid") not in (None, kid):
        raise ValueError(f"kid {jwk.get('kid')!r} is not the key's thumbprint")
    return kid, key


def _read_pem(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read key file {path}: {exc.strerror}") from exc
    # Group read is allowed (a Kubernetes Secret volume with fsGroup is 0440); anyone else is not.
    if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IWGRP):
        raise ValueError(f"key file {path} is readable or writable by others; chmod 600 it")
    return data


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (PKCS#8, as `openssl genpkey -algorithm ed25519` writes)."""
    try:
        key = serialization.load_pem_private_key(_read_pem(path), password=None)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"key file {path} holds no usable private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"key file {path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The public key of a PEM file that holds either half (a retired key may be kept as its public half)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read key file {path}: {exc.strerror}") from exc
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"key file {path} holds no usable public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"key file {path} is not an Ed25519 key")
    return key


def jwks(keys: list[Ed25519PublicKey]) -> dict[str, list[dict[str, str]]]:
    """A JWKS document (RFC 7517 §5), each key once, in the order given (the signing key first)."""
    seen: dict[str, dict[str, str]] = {}
    for key in keys:
        jwk = public_jwk(key)
        seen.setdefault(jwk["kid"], jwk)
    return {"keys": list(seen.values())}


class KeySet(Protocol):
    async def key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key named `kid`, or None when no such key is trusted."""


class StaticKeySet:
    """Keys known in advance: ingest's own published keys, or a test's."""

    def __init__(self, keys: list[Ed25519PublicKey]) -> None:
        self._keys = dict(key_from_jwk(jwk) for jwk in jwks(keys)["keys"])

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)


class RemoteKeySet:
    """Ingest's JWKS document over HTTP, cached (see the module docstring)."""

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        max_age_s: float = 300.0,
        min_refetch_s: float = 1.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.url, self._http, self._clock = url, http, clock
        self.max_age_s, self.min_refetch_s = max_age_s, min_refetch_s
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str) -> Ed25519PublicKey | None:
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at > self.max_age_s:
            await self._refresh(required=True)
        elif kid not in self._keys:
            await self._refresh(required=False)
        return self._keys.get(kid)

    async def _refresh(self, *, required: bool) -> None:
        async with self._lock:
            now = self._clock()
            if self._tried_at is not None and now - self._tried_at < self.min_refetch_s:
                if required and self._fetched_at is None:
                    raise KeysUnavailableError(f"no signing keys yet from {self.url}")
                return  # rate-limited: answer from the cache
            self._tried_at = now
            try:
                keys = await self._fetch()
            except KeysUnavailableError:
                expired = self._fetched_at is None or now - self._fetched_at > 2 * self.max_age_s
                if required and expired:
                    raise
                log.warning("token keys: %s unreachable; keeping the cached keys", self.url)
                return
            self._keys, self._fetched_at = keys, now

    async def _fetch(self) -> dict[str, Ed25519PublicKey]:
        self.fetches += 1
        try:
            r = await self._http.get(self.url, headers={"Accept": "application/json"})
            r.raise_for_status()
            document = r.json()
            keys = dict(key_from_jwk(jwk) for jwk in document["keys"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise KeysUnavailableError(f"cannot read signing keys from {self.url}: {exc}") from exc
        return keys
