"""System clients and their scopes (client-credentials grant). Pure."""

from __future__ import annotations

import hashlib
import hmac
import secrets
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


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(client: Client, secret: str) -> bool:
    return hmac.compare_digest(client.secret_hash, hash_secret(secret))


def unknown_scopes(scopes: set[str]) -> set[str]:
    return scopes - SCOPES
