"""PUT …/progress with an Idempotency-Key has the batch upload's semantics (shared contract item 4)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from tests.support.api import bearer, create_client, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
REPORT = {"热喷涂": "已完成", "updated_by": "zhang", "update_time": "2024-05-01T10:00:00Z"}


@pytest.fixture
async def ctx(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    token = await login(http, services["ingest"].url, *await create_client(admin))
    contracts = [f"IK{uuid.uuid4().hex[:8]}" for _ in range(2)]
    rows = [{"合同编号": c, "产品ID": "P1", "产品名称": "陶瓷网纹辊", "热喷涂": "进行中"} for c in contracts]
    r = await http.post(
        f"{services['ingest'].url}/sync/contracts/batch", json={"contracts": rows}, headers=bearer(token)
    )
    assert r.json()["accepted"] == 2
    return {"url": services["ingest"].url, "token": token, "contracts": contracts}


async def _put(
    http: httpx.AsyncClient, ctx: dict[str, Any], key: str, body: dict[str, Any], contract: int = 0
) -> httpx.Response:
    url = f"{ctx['url']}/sync/contracts/{ctx['contracts'][contract]}/progress"
    return await http.put(url, json=body, headers={**bearer(ctx["token"]), "Idempotency-Key": key})


async def _events(admin: asyncpg.Connection, contract: str) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM ingest.outbox WHERE topic = $1 AND key = $2",
            topics.INGEST_PROGRESS_REPORTED,
            contract,
        )
    )


async def test_a_retry_with_the_same_key_gets_the_stored_answer_and_emits_nothing(
    ctx: dict[str, Any], admin: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    key = uuid.uuid4().hex
    first = await _put(http, ctx, key, REPORT)
    assert first.status_code == 200, first.text
    again = await _put(http, ctx, key, REPORT)
    assert again.status_code == 200
    assert again.content == first.content  # byte for byte
    assert await _events(admin, ctx["contracts"][0]) == 1
    fresh = await _put(http, ctx, uuid.uuid4().hex, REPORT)  # another key is another report
    assert fresh.json()["updates"][0]["version"] == first.json()["updates"][0]["version"] + 1


async def test_the_same_key_with_another_body_or_contract_is_422(
    ctx: dict[str, Any], admin: asyncpg.Connection, http: httpx.AsyncClient
) -> None:
    key = uuid.uuid4().hex
    assert (await _put(http, ctx, key, REPORT)).status_code == 200
    other_body = await _put(http, ctx, key, {**REPORT, "热喷涂": "返工"})
    assert (other_body.status_code, other_body.json()["code"]) == (422, "idempotency_key_reused")
    other_contract = await _put(http, ctx, key, REPORT, contract=1)
    assert (other_contract.status_code, other_contract.json()["code"]) == (422, "idempotency_key_reused")
    assert await _events(admin, ctx["contracts"][0]) == 1
    assert await _events(admin, ctx["contracts"][1]) == 0
    too_long = await _put(http, ctx, "k" * 201, REPORT)
    assert (too_long.status_code, too_long.json()["code"]) == (400, "invalid_idempotency_key")


async def test_concurrent_requests_with_one_key_make_one_report(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    key = uuid.uuid4().hex
    # One connection each, sent at once: the server sees them overlap, not one after another.
    clients = [httpx.AsyncClient(timeout=60) for _ in range(8)]
    try:
        answers = await asyncio.gather(*(_put(c, ctx, key, REPORT) for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert await _events(admin, ctx["contracts"][0]) == 1
