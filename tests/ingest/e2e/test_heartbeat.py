"""The real ingest process records a client's calls and exposes them to Prometheus (contract point 6)."""

from __future__ import annotations

import time

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import bearer, create_client, eventually, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


async def _last_seen(http: httpx.AsyncClient, url: str, client_id: str) -> float | None:
    text = (await http.get(f"{url}/metrics")).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "rollsync_client_last_seen_timestamp_seconds" and s.labels["client_id"] == client_id:
                return float(s.value)
    return None


async def test_login_and_calls_are_seen_and_scraped(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    url = services["ingest"].url
    client_id, secret = await create_client(admin, ["contracts:write"])
    assert await _last_seen(http, url, client_id) is None
    before = time.time()
    token = await login(http, url, client_id, secret)
    seen = await _last_seen(http, url, client_id)
    assert seen is not None
    assert before - 1 <= seen <= time.time() + 1
    # a call inside the write interval costs no write: the stored time stays where the test put it
    await admin.execute(
        "UPDATE ingest.clients SET last_seen_at = '2020-01-01Z' WHERE client_id = $1", client_id
    )
    r = await http.post(
        f"{url}/sync/contracts/batch",
        json={"deleted": [{"合同编号": "HB-none", "产品ID": "P1"}]},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    assert await _last_seen(http, url, client_id) == 1577836800.0

    async def call_is_recorded() -> bool:  # once the 30 s write interval has passed, an API call writes again
        r = await http.post(
            f"{url}/sync/contracts/batch",
            json={"deleted": [{"合同编号": "HB-none", "产品ID": "P1"}]},
            headers=bearer(token),
        )
        assert r.status_code == 200, r.text
        return (await _last_seen(http, url, client_id) or 0) > 1577836800.0

    await eventually(call_is_recorded, timeout_s=90, every_s=2)
