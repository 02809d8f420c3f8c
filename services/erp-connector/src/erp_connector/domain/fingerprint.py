"""A salted, slow fingerprint of the ERP credentials, so a credentials stop survives restarts
but lifts by itself once the credentials change. The password itself is never stored."""

from __future__ import annotations

import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def _derive(username: str, password: str, salt: bytes) -> bytes:
    material = f"{username}\0{password}".encode()
    return hashlib.scrypt(material, salt=salt, n=_N, r=_R, p=_P, dklen=32)


def fingerprint(username: str, password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    return f"scrypt${salt.hex()}${_derive(username, password, salt).hex()}"


def matches(stored: str | None, username: str, password: str) -> bool:
    if not stored:
        return False
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(_derive(username, password, salt), digest)
