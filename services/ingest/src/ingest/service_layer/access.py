"""Client-credentials login, throttled per client id and per source (counters shared by every replica)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.rate_limit import RateLimitedError
from ingest.adapters import repository as repo
from ingest.domain.clients import secret_matches

if TYPE_CHECKING:
    import asyncpg

    from common.rate_limit import Limit, RateLimiter
    from ingest.adapters.tokens import JwtIssuer
    from ingest.domain.clients import Client


class InvalidClientError(Exception):
    """Unknown client, wrong secret or disabled client: one answer for all (no enumeration)."""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins per client id (guessing one id) and per source address (guessing across many ids)."""

    per_client: Limit
    per_source: Limit


async def login(
    pool: asyncpg.Pool,
    limiter: RateLimiter,
    tokens: JwtIssuer,
    credentials: tuple[str, str],
    source: str,
    limits: LoginLimits,
) -> tuple[str, Client]:
    """A token for good credentials. A source over its failure limit is refused (RateLimitedError) before
    the secret is looked at, so its guesses learn nothing, right or wrong, until the window ends."""
    client_id, secret = credentials
    source_bucket = f"login-source:{source[:64]}"
    await limiter.peek(source_bucket, limits.per_source)
    client = await repo.get_client(pool, client_id)
    if client is None or client.disabled or not secret_matches(client, secret):
        await _count_failure(
            limiter,
            [(source_bucket, limits.per_source), (f"login-failure:{client_id[:64]}", limits.per_client)],
        )
        raise InvalidClientError
    return tokens.issue(client.client_id, client.scopes, client.token_version), client


async def _count_failure(limiter: RateLimiter, buckets: list[tuple[str, Limit]]) -> None:
    """Count the failure in every bucket; the first that is now over its limit answers (429)."""
    over: RateLimitedError | None = None
    for bucket, limit in buckets:
        try:
            await limiter.hit(bucket, limit)
        except RateLimitedError as exc:
            over = over or exc
    if over is not None:
        raise over
