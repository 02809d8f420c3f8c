"""Seed 004 Q3 end to end on the real processes: a customer pushed to the ERP simulator is pushed again after an
operator's re-sync, by the API and by the seed's own `UPDATE … SET erp_sync_status = 'pending'`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from common.events.customers import WechatCustomerCaptured
from common.events.envelope import Envelope
from tests.support.api import bearer, create_client, eventually, login
from tests.support.kafka_events import publish
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e

ROW = "SELECT * FROM rules.customers_unified WHERE wechat_id = $1"


async def _synced(admin: asyncpg.Connection, wechat_id: str, version: int) -> asyncpg.Record | None:
    row = await admin.fetchrow(ROW, wechat_id)
    done = row and row["erp_sync_status"] == "synced" and row["push_result_version"] >= version
    return row if done else None


async def _saves(http: httpx.AsyncClient, sim_url: str) -> int:
    state: dict[str, Any] = (await http.get(f"{sim_url}/_sim/state")).json()
    return int(state["saves_applied"])


async def test_forced_resync_by_api_and_by_the_seeds_sql_reaches_the_erp_again(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    wechat_id = f"wx_resync_{tag}"
    captured = WechatCustomerCaptured(
        wechat_id=wechat_id,
        version=1,
        captured_at=datetime.now(UTC),
        client_id="e2e",
        fields={
            "company_name": f"汕头{tag}彩印有限公司",
            "phone": f"138{int(tag, 16) % 10**8:08d}",  # the ERP matches by mobile: one per run
            "real_name": f"李娜{tag[:4]}",
            "has_order": True,
        },
        sources={"phone": "manual"},
        verified=["phone"],
    )
    envelope = Envelope[WechatCustomerCaptured](
        event_type="WechatCustomerCaptured", source="ingest", correlation_id=tag, payload=captured
    )
    await publish(topics.INGEST_WECHAT_CUSTOMER_CAPTURED, wechat_id, envelope)
    auth = bearer(await login(http, services["ingest"].url, *await create_client(admin, ["admin"])))
    connector, rules, sim = (services[n].url for n in ("erp-connector", "rules", "erp-simulator"))

    async def push_now() -> None:
        r = await http.post(f"{connector}/sync/erp/trigger", json={"direction": "push"}, headers=auth)
        assert r.status_code == 202, r.text

    async def pushed(version: int) -> asyncpg.Record | None:
        row = await _synced(admin, wechat_id, version)
        if row is None:
            await push_now()  # a request may reach the connector after the previous run: ask again
        return row

    first = await eventually(lambda: pushed(1), timeout_s=120)
    assert first["erp_customer_id"] is not None
    saves = await _saves(http, sim)

    r = await http.post(f"{rules}/customers/{first['id']}/resync", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["requested"] is True
    second = await eventually(lambda: pushed(first["sync_version"] + 1), timeout_s=120)
    assert await _saves(http, sim) > saves
    saves = await _saves(http, sim)

    await admin.execute(
        f"UPDATE rules.customers_unified\nSET erp_sync_status = 'pending'\nWHERE id = '{first['id']}';"
    )
    third = await eventually(lambda: pushed(second["sync_version"] + 1), timeout_s=120)
    assert await _saves(http, sim) > saves
    assert third["erp_customer_id"] == first["erp_customer_id"]  # updated again, not created twice
    triggers = await admin.fetch(
        "SELECT trigger FROM rules.sync_decisions WHERE customer_id = $1 AND trigger = 'manual_resync'",
        first["id"],
    )
    assert len(triggers) == 2
