"""Progress reports: 404 / 422 / 409 with stable codes; tokens and scopes as RFC 6750 says; rate limits."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.stack import ServiceProcess
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.e2e


@pytest.fixture
async def ctx(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    token = await login(http, services["ingest"].url, *await create_client(admin))
    c = f"PG{uuid.uuid4().hex[:8]}"
    row = {"合同编号": c, "产品ID": "P1", "产品名称": "陶瓷网纹辊", "基辊加工": "已完成", "热喷涂": "进行中"}
    r = await http.post(
        f"{services['ingest'].url}/sync/contracts/batch", json={"contracts": [row]}, headers=bearer(token)
    )
    assert r.json()["accepted"] == 1
    return {"url": services["ingest"].url, "auth": bearer(token), "http": http, "contract": c}


async def _put(ctx: dict[str, Any], body: dict[str, Any], contract: str | None = None) -> httpx.Response:
    url = f"{ctx['url']}/sync/contracts/{contract or ctx['contract']}/progress"
    response: httpx.Response = await ctx["http"].put(url, json=body, headers=ctx["auth"])
    return response


async def test_unknown_contract_is_404(ctx: dict[str, Any]) -> None:
    r = await _put(ctx, {"热喷涂": "已完成", "updated_by": "w"}, contract="NO-SUCH-CONTRACT")
    assert r.status_code == 404
    assert r.json()["code"] == "contract_not_found"


async def test_unknown_process_and_status_are_422(ctx: dict[str, Any]) -> None:
    r = await _put(ctx, {"火星加工": "已完成", "updated_by": "w"})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_process")
    r = await _put(ctx, {"热喷涂": "快好了", "updated_by": "w"})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_status")


async def test_two_workers_cannot_silently_overwrite_each_other(ctx: dict[str, Any]) -> None:
    first = await _put(
        ctx, {"热喷涂": "已完成", "updated_by": "zhang", "update_time": "2024-05-01T10:00:00Z"}
    )
    assert first.status_code == 200
    version = first.json()["updates"][0]["version"]
    stale = await _put(ctx, {"热喷涂": "暂停", "updated_by": "li", "update_time": "2024-05-01T09:00:00Z"})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_update")
    conflict = await _put(
        ctx,
        {
            "热喷涂": "返工",
            "updated_by": "li",
            "update_time": "2024-05-01T11:00:00Z",
            "expected_version": version - 1 if version > 1 else version + 5,
        },
    )
    assert (conflict.status_code, conflict.json()["code"]) == (409, "version_conflict")
    ok = await _put(
        ctx,
        {
            "热喷涂": "返工",
            "updated_by": "li",
            "update_time": "2024-05-01T11:00:00Z",
            "expected_version": version,
        },
    )
    assert ok.status_code == 200
    assert ok.json()["updates"][0]["version"] == version + 1


async def test_tokens_are_checked_as_rfc_6750_says(ctx: dict[str, Any], admin: asyncpg.Connection) -> None:
    url, http = f"{ctx['url']}/sync/contracts/batch", ctx["http"]
    missing = await http.post(url, json={"contracts": []})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    forged = jwt.encode(
        {"client_id": "x", "scope": "admin"}, "not-our-key-but-long-enough-for-hs256!", algorithm="HS256"
    )
    bad = await http.post(url, json={"contracts": []}, headers=bearer(forged))
    assert (bad.status_code, bad.json()["code"]) == (401, "invalid_token")
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    none_alg = TestSigner().hostile_alg_none()
    assert (await http.post(url, json={"contracts": []}, headers=bearer(none_alg))).status_code == 401
    reader = await login(http, ctx["url"], *await create_client(admin, ["sync:read"]))
    denied = await http.post(url, json={"contracts": []}, headers=bearer(reader))
    assert (denied.status_code, denied.json()["code"]) == (403, "insufficient_scope")
    assert 'scope="contracts:write"' in denied.headers["www-authenticate"]


async def test_wrong_secrets_get_invalid_client_and_are_throttled(ctx: dict[str, Any]) -> None:
    body = {
        "client_id": f"nobody-{uuid.uuid4().hex[:6]}",
        "client_secret": "wrong",
        "grant_type": "client_credentials",
    }
    # A source of its own (as the edge reports it): the per-source failure limit stays out of this test.
    source = {"X-Real-IP": f"198.18.{uuid.uuid4().int % 256}.{uuid.uuid4().int % 254 + 1}"}
    url = f"{ctx['url']}/auth/system-login"
    answers = [await ctx["http"].post(url, json=body, headers=source) for _ in range(25)]
    assert answers[0].status_code == 401
    assert answers[0].json()["code"] == "invalid_client"
    throttled = [a for a in answers if a.status_code == 429]
    assert len(throttled) >= 5  # 10 failures a minute, even if the minute turns mid-test
    assert int(throttled[0].headers["retry-after"]) >= 1
    wrong_grant = await ctx["http"].post(url, json={**body, "grant_type": "password"}, headers=source)
    assert wrong_grant.json()["code"] == "unsupported_grant_type"


async def test_the_per_minute_limit_answers_429_with_retry_after(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    token = await login(ctx["http"], ctx["url"], *await create_client(admin, per_minute=2))
    url = f"{ctx['url']}/sync/contracts/{ctx['contract']}/progress"
    codes = [
        (
            await ctx["http"].put(url, json={"热喷涂": "进行中", "updated_by": "w"}, headers=bearer(token))
        ).status_code
        for _ in range(8)
    ]
    assert codes.count(429) >= 6  # at most 2 per minute, even if the minute turns mid-test
    assert 200 in codes
