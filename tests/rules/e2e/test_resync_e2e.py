"""Seed 004 Q3 end to end on the real processes (ingest, rules, erp-connector, the ERP simulator, Kafka,
PostgreSQL): a customer already in the ERP is re-synced by an operator, by the API and by the seed's own
`UPDATE … SET erp_sync_status = 'pending'`, and the ERP receives exactly one save per request."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.erp_push import Pusher, erp_record, saves_of
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


async def test_forced_resync_reaches_the_erp_simulator_exactly_once_per_request(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    wechat_id, phone = f"wx_resync_{tag}", f"138{int(tag, 16) % 10**8:08d}"
    ingest, rules, connector, sim = (
        services[n].url for n in ("ingest", "rules", "erp-connector", "erp-simulator")
    )
    auth = bearer(await login(http, ingest, *await create_client(admin, ["admin", "customers:write"])))
    pusher = Pusher(admin, http, connector, auth)
    r = await http.post(
        f"{ingest}/customers/capture",
        headers=auth,
        json={
            "wechat_id": wechat_id,
            "company_name": f"汕头{tag}彩印有限公司",
            "phone": phone,
            "real_name": f"李娜{tag[:4]}",
            "has_order": True,
            "sources": {"phone": "manual"},
            "verified": ["phone"],
        },
    )
    assert r.status_code == 200, r.text

    async def created() -> asyncpg.Record | None:
        return await admin.fetchrow("SELECT * FROM rules.customers_unified WHERE wechat_id = $1", wechat_id)

    customer_id = (await eventually(created, timeout_s=90))["id"]
    first = await pusher.confirmed(customer_id, 1)  # the rules' own create: now the customer is in the ERP
    erp_id = first["erp_customer_id"]
    record = await erp_record(http, sim, erp_id)
    assert (record["khid"], record["mobile"]) == (first["code"], phone)
    saves = record["save_count"]

    version = first["sync_version"]
    for _ in range(2):  # two requests, two saves: one each, none repeated
        r = await http.post(f"{rules}/customers/{customer_id}/resync", headers=auth)
        assert r.status_code == 200, r.text
        assert (r.json()["requested"], r.json()["decision"]["rule"]) == (True, "mandatory_has_order")
        assert "phone" in r.json()["fields"]  # every value again, also those the ERP already shows
        version += 1
        await pusher.confirmed(customer_id, version)
        saves += 1
        assert await saves_of(http, sim, erp_id) == saves

    await admin.execute(  # the seed's statement as an operator types it
        f"UPDATE rules.customers_unified\nSET erp_sync_status = 'pending'\nWHERE id = '{customer_id}';"
    )
    version += 1
    last = await pusher.confirmed(customer_id, version)
    saves += 1
    await pusher.trigger()  # one more push run, and a moment: nothing is sent twice
    await asyncio.sleep(3)
    assert await saves_of(http, sim, erp_id) == saves
    assert last["erp_customer_id"] == erp_id  # updated in place, never created again
    decisions = await admin.fetch(
        "SELECT emitted FROM rules.sync_decisions WHERE customer_id = $1 AND trigger = 'manual_resync'",
        customer_id,
    )
    assert [d["emitted"] for d in decisions] == [True, True, True]
    requests = await admin.fetch(
        "SELECT version, result FROM rules.sync_requests WHERE customer_id = $1 ORDER BY version", customer_id
    )
    assert [(q["version"], q["result"]) for q in requests] == [(v, "synced") for v in range(1, version + 1)]
