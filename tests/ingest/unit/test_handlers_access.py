"""Login, the token check and the revocation list on fakes: one answer for every bad credential, failures
counted per client id and per source, revoked versions and disabled clients refused."""

from __future__ import annotations

import pytest

from common.rate_limit import Limit, RateLimitedError
from ingest.service_layer.access import (
    InvalidClientError,
    LoginLimits,
    TokenRefusedError,
    login,
    token_client,
    token_revocations,
)
from tests.ingest.fakes import FakeClientsRepository, FakeIssuer, FakeStore, FakeThrottle, add_client

LIMITS = LoginLimits(Limit(per_minute=3, per_day=100), Limit(per_minute=5, per_day=100))


@pytest.fixture
def clients() -> FakeClientsRepository:
    store = FakeStore()
    add_client(store, "agent", scopes=frozenset({"contracts:write", "sync:read"}), secret="right")
    return FakeClientsRepository(store)


async def test_good_credentials_get_a_token_for_the_clients_scopes_and_version(
    clients: FakeClientsRepository,
) -> None:
    token, client = await login(clients, FakeIssuer(), FakeThrottle(), ("agent", "right"), "10.0.0.1", LIMITS)
    assert token == "token:agent:contracts:write,sync:read:v1"
    assert client.client_id == "agent"


@pytest.mark.parametrize("credentials", [("agent", "wrong"), ("nobody", "right")])
async def test_bad_credentials_are_one_answer_and_counted_per_id_and_source(
    clients: FakeClientsRepository, credentials: tuple[str, str]
) -> None:
    throttle = FakeThrottle()
    with pytest.raises(InvalidClientError):
        await login(clients, FakeIssuer(), throttle, credentials, "10.0.0.1", LIMITS)
    assert throttle.hits == {"login-source:10.0.0.1": 1, f"login-failure:{credentials[0]}": 1}


async def test_a_disabled_client_cannot_log_in(clients: FakeClientsRepository) -> None:
    await clients.set_disabled("agent", True)
    with pytest.raises(InvalidClientError):
        await login(clients, FakeIssuer(), FakeThrottle(), ("agent", "right"), "10.0.0.1", LIMITS)


async def test_too_many_failures_answer_429_and_a_full_source_is_refused_before_the_secret(
    clients: FakeClientsRepository,
) -> None:
    throttle = FakeThrottle()
    for _ in range(3):
        with pytest.raises(InvalidClientError):
            await login(clients, FakeIssuer(), throttle, ("agent", "wrong"), "10.0.0.1", LIMITS)
    with pytest.raises(RateLimitedError):  # the fourth failure of this client id
        await login(clients, FakeIssuer(), throttle, ("agent", "wrong"), "10.0.0.1", LIMITS)
    throttle.hits["login-source:10.0.0.9"] = 5
    with pytest.raises(RateLimitedError):  # even the right secret learns nothing from a full source
        await login(clients, FakeIssuer(), throttle, ("agent", "right"), "10.0.0.9", LIMITS)
    assert throttle.hits["login-source:10.0.0.9"] == 5  # the peek counted nothing


async def test_a_token_below_the_clients_version_or_of_a_disabled_client_is_refused(
    clients: FakeClientsRepository,
) -> None:
    assert (await token_client(clients, "agent", 1)).client_id == "agent"
    await clients.rotate("agent", "new-hash")
    with pytest.raises(TokenRefusedError, match="revoked"):
        await token_client(clients, "agent", 1)
    assert (await token_client(clients, "agent", 2)).token_version == 2
    await clients.set_disabled("agent", True)
    with pytest.raises(TokenRefusedError, match="disabled"):
        await token_client(clients, "agent", 3)
    with pytest.raises(TokenRefusedError):
        await token_client(clients, "nobody", 1)


async def test_revocations_list_disabled_and_rotated_clients_only(clients: FakeClientsRepository) -> None:
    add_client(clients.store, "app")
    add_client(clients.store, "old")
    assert await token_revocations(clients) == []
    await clients.rotate("agent", "h2")
    await clients.set_disabled("old", True)
    assert [(r.client_id, r.min_version, r.disabled) for r in await token_revocations(clients)] == [
        ("agent", 2, False),
        ("old", 2, True),
    ]
