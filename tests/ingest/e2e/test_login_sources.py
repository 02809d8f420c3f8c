"""Failed logins are limited per source too (issue 10, item 5): guesses spread over many client ids from one
address get 429 `rate_limited` with Retry-After, and the address is believed only from the edge.

Before this, failures were counted per client id only, so guessing across ids was never slowed.
"""

from __future__ import annotations

import random
import uuid

import asyncpg
import httpx
import pytest

from tests.support.api import create_client
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
PER_SOURCE = 30  # INGEST_LOGIN_SOURCE_FAILURES_PER_MINUTE's default
GUESSES = PER_SOURCE + 10


def _test_net_address() -> str:
    """An address of its own per test run (198.18.0.0/15, benchmarking range): fresh counters."""
    return f"198.{random.randint(18, 19)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _loopback_address() -> str:
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _guess(client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
    return {
        "client_id": client_id or f"guess-{uuid.uuid4().hex[:8]}",
        "client_secret": secret or "wrong",
        "grant_type": "client_credentials",
    }


def _throttled_after(codes: list[int], allowed: int) -> bool:
    """`allowed` failures answered 401, the rest 429 (the minute may turn once mid-test: then a few more 401)."""
    first = codes.index(429) if 429 in codes else len(codes)
    return first >= allowed and codes[:first].count(401) == first and 429 in codes


async def test_guesses_across_many_ids_from_one_source_are_throttled(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    url, source = f"{services['ingest'].url}/auth/system-login", _test_net_address()
    edge = {"X-Real-IP": source}  # as the edge (a trusted peer: 127.0.0.1) reports it
    answers = [await http.post(url, json=_guess(), headers=edge) for _ in range(GUESSES)]
    codes = [r.status_code for r in answers]
    assert _throttled_after(codes, PER_SOURCE), codes
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60

    client_id, secret = await create_client(admin)
    right = await http.post(url, json=_guess(client_id, secret), headers=edge)
    assert right.status_code == 429, "a blocked source learns nothing, not even from a right guess"
    elsewhere = await http.post(
        url, json=_guess(client_id, secret), headers={"X-Real-IP": _test_net_address()}
    )
    assert elsewhere.status_code == 200, elsewhere.text


async def test_a_peer_that_is_not_the_edge_cannot_choose_its_source(
    services: dict[str, ServiceProcess],
) -> None:
    """From an address not in INGEST_TRUSTED_PROXIES, X-Real-IP and X-Forwarded-For are ignored."""
    transport = httpx.AsyncHTTPTransport(local_address=_loopback_address())
    async with httpx.AsyncClient(transport=transport, timeout=10) as direct:
        codes = []
        for _ in range(GUESSES):
            spoof = _test_net_address()
            r = await direct.post(
                f"{services['ingest'].url}/auth/system-login",
                json=_guess(),
                headers={"X-Real-IP": spoof, "X-Forwarded-For": spoof},
            )
            codes.append(r.status_code)
    assert _throttled_after(codes, PER_SOURCE), codes
