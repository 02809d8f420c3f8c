"""While PostgreSQL is down every HTTP service answers 503 + Retry-After with the request's id, never 500;
once it is back they serve again on their own, with no restart (issue 8, defect 10)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.postgres import postgres
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
log = logging.getLogger(__name__)
Send = Callable[[dict[str, str]], Awaitable[httpx.Response]]


async def _requests(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Send]:
    ingest, transform = services["ingest"].url, services["transform"].url
    client_id, secret = await create_client(admin)
    token = await login(http, ingest, client_id, secret)
    contract = f"OUT{uuid.uuid4().hex[:8]}"
    row = {"合同编号": contract, "产品ID": "P1", "产品名称": "陶瓷网纹辊", "热喷涂": "进行中"}
    r = await http.post(f"{ingest}/sync/contracts/batch", json={"contracts": [row]}, headers=bearer(token))
    assert r.json()["accepted"] == 1
    credentials = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
    report = {"热喷涂": "已完成", "updated_by": "w", "update_time": "2024-05-01T10:00:00Z"}

    async def log_in(headers: dict[str, str]) -> httpx.Response:
        return await http.post(f"{ingest}/auth/system-login", json=credentials, headers=headers)

    async def progress(headers: dict[str, str]) -> httpx.Response:
        url = f"{ingest}/sync/contracts/{contract}/progress"
        return await http.put(url, json=report, headers={**bearer(token), **headers})

    async def feed(headers: dict[str, str]) -> httpx.Response:
        url = f"{transform}/sync/pending-updates?limit=1"
        return await http.get(url, headers={**bearer(token), **headers})

    return {"ingest login": log_in, "ingest progress": progress, "transform feed": feed}


async def test_a_postgresql_outage_answers_503_and_the_services_recover_unaided(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    requests = await _requests(admin, services, http)
    pids = {name: p.proc.pid for name, p in services.items() if p.proc}
    postgres("stop", "--immediate")
    try:
        for name, send in requests.items():
            r = await send({"X-Request-Id": f"outage-{name}"})
            assert r.status_code == 503, (name, r.status_code, r.text)
            assert r.json()["code"] == "service_unavailable", name
            assert int(r.headers["retry-after"]) >= 1, name
            assert r.json()["request_id"] == r.headers["x-request-id"] == f"outage-{name}", name
        generated = await requests["ingest login"]({})
        assert generated.status_code == 503
        assert generated.json()["request_id"] == generated.headers["x-request-id"]
        assert len(generated.headers["x-request-id"]) >= 32  # a real id, not "-"
    finally:
        postgres("start")
    back = time.monotonic()

    for send in requests.values():

        async def served(send: Send = send) -> bool:
            return (await send({})).status_code == 200

        await eventually(served, timeout_s=60, every_s=0.5)
    log.info("served again %.1fs after PostgreSQL accepted connections", time.monotonic() - back)
    assert {name: p.proc.pid for name, p in services.items() if p.proc} == pids
    assert all(p.proc is not None and p.proc.poll() is None for p in services.values())
