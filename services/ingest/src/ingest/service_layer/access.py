"""Client-credentials login, throttled per client id and per source (counters shared by every replica)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from common.rate_limit import RateLimitedError
from ingest.domain.clients import secret_matches

if TYPE_CHECKING:
    from common.rate_limit import Limit
    from ingest.domain.clients import Client
    from ingest.service_layer.ports import ClientsRepository, LoginThrottle, Revocation, TokenIssuer


class InvalidClientError(Exception):
    """Unknown client, wrong secret or disabled client: one answer for all (no enumeration)."""


class TokenRefusedError(Exception):
    """A valid signature, but the client is disabled or the token's version was revoked."""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins per client id (guessing one id) and per source address (guessing across many ids)."""

    per_client: Limit
    per_source: Limit


async def login(
    clients: ClientsRepository,
    tokens: TokenIssuer,
    limiter: LoginThrottle,
    credentials: tuple[str, str],
    source: str,
    limits: LoginLimits,
) -> tuple[str, Client]:
    """A token for good credentials. A source over its failure limit is refused (RateLimitedError) before
    the secret is looked at, so its guesses learn nothing, right or wrong, until the window ends."""
    client_id, secret = credentials
    source_bucket = f"login-source:{source[:64]}"
    await limiter.peek(source_bucket, limits.per_source)
    client = await clients.get(client_id)
    if client is None or client.disabled or not secret_matches(client, secret):
        await _count_failure(
            limiter,
            [(source_bucket, limits.per_source), (f"login-failure:{client_id[:64]}", limits.per_client)],
        )
        raise InvalidClientError
    return tokens.issue(client.client_id, client.scopes, client.token_version), client


async def _count_failure(limiter: LoginThrottle, buckets: list[tuple[str, Limit]]) -> None:
    """Count the failure in every bucket; the first that is now over its limit answers (429)."""
    over: RateLimitedError | None = None
    for bucket, limit in buckets:
        try:
            await limiter.hit(bucket, limit)
        except RateLimitedError as exc:
            over = over or exc
    if over is not None:
        raise over


async def token_client(clients: ClientsRepository, client_id: str, token_version: int) -> Client:
    """The client a verified token was issued to, if its tokens are still good (common.revocation)."""
    client = await clients.get(client_id)
    if client is None or client.disabled:
        raise TokenRefusedError("客户端已停用 / client disabled")
    if token_version < client.token_version:
        raise TokenRefusedError("令牌已被吊销（密钥已轮换）/ token revoked: secret rotated")
    return client


async def token_revocations(clients: ClientsRepository) -> list[Revocation]:
    """Clients whose older tokens every service refuses: disabled ones and those whose secret changed."""
    return await clients.revocations()
