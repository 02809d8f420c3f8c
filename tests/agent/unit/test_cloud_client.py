"""The HTTP client's retry rules, against a scripted transport (the e2e tests use the real cloud)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from rollsync_agent.cloud import (
    AuthFailedError,
    CloudClient,
    CloudRefusedError,
    CloudUnavailableError,
    idempotency_key,
)
from rollsync_agent.config import CloudApi

API = CloudApi(base_url="http://cloud.test", client_id="c1", client_secret="s1", timeout=5000)
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, slept: list[float]) -> CloudClient:
    return CloudClient(API, transport=httpx.MockTransport(handler), sleep=slept.append, backoff_s=0.5)


def _login_ok(request: httpx.Request) -> httpx.Response | None:
    if request.url.path == "/auth/system-login":
        return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 900})
    return None


def test_an_expired_token_logs_in_again_once() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if (r := _login_ok(request)) is not None:
            return r
        return httpx.Response(401 if calls.count("/x") == 1 else 200, json={"code": "token_expired"})

    assert _client(handler, []).call("GET", "/x").status_code == 200
    assert calls == ["/auth/system-login", "/x", "/auth/system-login", "/x"]


def test_429_waits_for_retry_after_and_5xx_backs_off() -> None:
    answers = iter([429, 503, 200])
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if (r := _login_ok(request)) is not None:
            return r
        status = next(answers)
        return httpx.Response(status, headers={"Retry-After": "7"} if status == 429 else {}, json={})

    assert _client(handler, slept).call("GET", "/x").status_code == 200
    assert slept == [7.0, 1.0]  # Retry-After, then 0.5 s doubled on the second attempt


def test_unreachable_ends_in_one_clear_error_after_bounded_attempts() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if (r := _login_ok(request)) is not None and not down:
            return r
        raise httpx.ConnectError("connection refused", request=request)

    down, slept = False, list[float]()
    client = _client(handler, slept)
    client.login()
    down = True
    with pytest.raises(CloudUnavailableError, match=r"4 attempts.*unreachable"):
        client.call("GET", "/x")
    assert slept == [0.5, 1.0, 2.0]
    fresh = _client(handler, slept)
    with pytest.raises(CloudUnavailableError, match=r"cannot reach the cloud.*ConnectError"):
        fresh.login()


def test_a_wrong_secret_is_one_login_and_a_clear_message() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(401, json={"code": "invalid_client", "message": "bad"})

    with pytest.raises(AuthFailedError, match="clientSecret"):
        _client(handler, []).call("POST", "/sync/contracts/batch", content=b"{}")
    assert calls == ["/auth/system-login"]  # no storm: one try per round


def test_the_login_body_is_the_seeds() -> None:
    bodies: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"access_token": "t"})

    _client(handler, []).login()
    assert bodies == [{"client_id": "c1", "client_secret": "s1", "grant_type": "client_credentials"}]


def test_idempotency_keys_follow_the_batch_and_the_state_it_was_built_on() -> None:
    k = idempotency_key("c1", b"body", "A/1=h1")
    assert k == idempotency_key("c1", b"body", "A/1=h1")  # a retry after a lost reply: same key
    assert k != idempotency_key("c1", b"body", "A/1=h2")  # A->B->A: same body, another step: new key
    assert k != idempotency_key("c2", b"body", "A/1=h1")
    assert len(k) <= 200


def test_the_daily_row_limit_stops_at_once_and_says_when_it_renews() -> None:
    """Retrying within the round cannot help before the China-day midnight: one request, a clear refusal."""
    calls: list[str] = []
    slept: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if (r := _login_ok(request)) is not None:
            return r
        calls.append(request.url.path)
        body = {"code": "daily_row_limit", "message": "this batch would pass the daily limit of 10000 rows"}
        return httpx.Response(429, headers={"Retry-After": "3600"}, json=body)

    with pytest.raises(CloudRefusedError, match=r"daily_row_limit.*10000 rows.*3600 s"):
        _client(handler, slept).call("POST", "/sync/contracts/batch")
    assert calls == ["/sync/contracts/batch"]
    assert slept == []
