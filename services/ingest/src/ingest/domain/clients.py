"""System clients and their scopes (client-credentials grant). Pure."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections import Counter
from dataclasses import dataclass

SCOPES = frozenset(
    {
        "contracts:write",
        "progress:write",
        "customers:write",
        "customers:read",
        # Sales staff's writes in rules (resolve a held value, enter a customer); customers:write is the
        # WeChat capture feed's
        "customers:edit",
        "sync:read",
        "admin",
        "employees:write",
        # Seed 000's local-system client holds it; no API is served under it yet (issue 14).
        "processes:write",
    }
)


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    disabled: bool
    rate_per_minute: int
    rate_per_day: int
    token_version: int = 1  # raised by disable and rotate: tokens carrying an older one are revoked


def new_secret() -> str:
    """A 256-bit random secret: a fast hash is enough for secrets nobody chose (DELIVERY.md §11)."""
    return secrets.token_urlsafe(32)


# An operator-chosen secret must be as hard to guess as a random one of 128 bits: the stored hash is a fast,
# unsalted SHA-256, safe only for secrets nobody could guess (DELIVERY.md §11).
MIN_SECRET_BITS = 128
MIN_SECRET_LENGTH = 24


def estimated_bits(secret: str) -> float:
    """Length × the Shannon entropy of the secret's own characters: an upper bound on what a person chose
    (a repeated or patterned string scores low; random URL-safe text scores ~5.5 bits a character)."""
    counts = Counter(secret)
    n = len(secret)
    return n * -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def weak_secret_reason(secret: str) -> str | None:
    """Why a chosen secret is refused, or None. The reason never repeats the secret."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters; at least {MIN_SECRET_LENGTH} are needed"
    bits = estimated_bits(secret)
    if bits < MIN_SECRET_BITS:
        return f"it holds about {bits:.0f} bits of entropy; at least {MIN_SECRET_BITS} are needed"
    return None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(client: Client, secret: str) -> bool:
    return hmac.compare_digest(client.secret_hash, hash_secret(secret))


def unknown_scopes(scopes: set[str]) -> set[str]:
    return scopes - SCOPES
