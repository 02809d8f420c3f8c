"""Client-credentials login, token checks and per-client rate limits shared by every replica."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ingest.adapters import repository as repo
from ingest.domain.clients import secret_matches

if TYPE_CHECKING:
    import asyncpg

    from ingest.adapters.tokens import JwtIssuer
    from ingest.domain.clients import Client


class InvalidClientError(Exception):
    """Unknown client, wrong secret or disabled client: one answer for all (no enumeration)."""


@dataclass(frozen=True, slots=True)
class RateLimitedError(Exception):
    retry_after_s: int
    window: str


def _window(now: datetime, seconds: int) -> tuple[datetime, int]:
    start = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, UTC), int(start + seconds - now.timestamp()) + 1


async def check_rate(pool: asyncpg.Pool, bucket: str, per_minute: int, per_day: int) -> None:
    now = datetime.now(UTC)
    windows = [
        (f"{bucket}:{name}", *_window(now, seconds), limit)
        for seconds, limit, name in ((60, per_minute, "minute"), (86400, per_day, "day"))
    ]
    counts = await repo.hit(pool, [(b, start) for b, start, _, _ in windows])
    for (name, _, retry_after, limit), count in zip(windows, counts, strict=True):
        if count > limit:
            raise RateLimitedError(retry_after, name.rsplit(":", 1)[1])


async def login(
    pool: asyncpg.Pool, tokens: JwtIssuer, client_id: str, secret: str, failures_per_minute: int
) -> tuple[str, Client]:
    client = await repo.get_client(pool, client_id)
    if client is None or client.disabled or not secret_matches(client, secret):
        # Failed logins are counted per client id so guessing is throttled (429 after the limit).
        await check_rate(
            pool, f"login-failure:{client_id[:64]}", failures_per_minute, failures_per_minute * 100
        )
        raise InvalidClientError
    return tokens.issue(client.client_id, client.scopes, client.token_version), client
