"""Sales staff on the real processes (ingest's tokens, rules, erp-connector, the ERP simulator, Kafka,
PostgreSQL): a customer entered by hand reaches the ERP; a value the ERP changed within one pull interval of
ours is held, settled by hand with an audit entry, and the settled value reaches the ERP once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from common.events.customers import ErpCustomerPulled
from common.events.envelope import Envelope
from tests.support.api import bearer, create_client, eventually, login
from tests.support.erp_push import Pusher, erp_record, saves_of
from tests.support.kafka_events import publish
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


async def _erp_shows(erp_id: int, code: str, fields: dict[str, Any]) -> None:
    """What a pull of the ERP's record would tell rules after someone edited it in the ERP."""
    pulled = ErpCustomerPulled(
        erp_id=erp_id, code=code, content_hash=uuid.uuid4().hex, pulled_at=datetime.now(UTC), fields=fields
    )
    envelope = Envelope[ErpCustomerPulled](
        event_type="ErpCustomerPulled", source="erp-connector", correlation_id=code, payload=pulled
    )
    await publish(topics.ERP_CUSTOMER_PULLED, str(erp_id), envelope)


async def test_a_hand_entered_customer_reaches_the_erp_and_a_held_value_is_settled_by_hand(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    ingest, rules, connector, sim = (
        services[n].url for n in ("ingest", "rules", "erp-connector", "erp-simulator")
    )
    sales = bearer(
        await login(http, ingest, *await create_client(admin, ["customers:read", "customers:edit"]))
    )
    reader = bearer(await login(http, ingest, *await create_client(admin, ["customers:read"])))
    ops = bearer(await login(http, ingest, *await create_client(admin, ["admin"])))
    pusher = Pusher(admin, http, connector, ops)
    entry = {
        "company_name": f"佛山{tag}软包装有限公司",
        "real_name": "黄伟",
        "phone": f"136{int(tag, 16) % 10**8:08d}",
        "address": "佛山市南海区桂城街道1号",
        "has_order": True,
    }

    refused = await http.post(f"{rules}/customers", headers=reader, json=entry)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    for bad, code in (
        ({k: v for k, v in entry.items() if k != "phone"}, "invalid_request"),
        ({**entry, "company_name": "佛山\x00包装"}, "unstorable_text"),
        ({**entry, "phone": "１３６"}, "invalid_phone"),
    ):
        r = await http.post(f"{rules}/customers", headers=sales, json=bad)
        assert (r.status_code, r.json()["code"]) == (422, code), r.text

    r = await http.post(f"{rules}/customers", headers=sales, json=entry)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["requested"], created["decision"]["rule"]) == (True, "mandatory_has_order")
    customer_id = created["customer_id"]
    first = await pusher.confirmed(customer_id, 1)  # created in the ERP by the rules
    erp_id, code = first["erp_customer_id"], first["code"]
    record = await erp_record(http, sim, erp_id)
    assert (record["khid"], record["name"], record["mobile"], record["fields"]["person_name"]) == (
        code,
        entry["company_name"],
        entry["phone"],
        "黄伟",
    )
    saves = record["save_count"]

    same = {"name": entry["company_name"], "mobile": entry["phone"], "contact_name": "黄伟"}
    await _erp_shows(erp_id, code, {**same, "address": "佛山市禅城区祖庙路8号"})

    async def held() -> dict[str, Any] | None:
        detail = (await http.get(f"{rules}/customers/{customer_id}", headers=reader)).json()
        return detail if detail["pending"] else None

    detail = await eventually(held, timeout_s=90)
    assert detail["pending"] == {
        "address": {"current": entry["address"], "pending": "佛山市禅城区祖庙路8号", "pending_source": "erp"}
    }
    assert detail["sync"]["version"] == 1  # held: not pushed over the ERP's change meanwhile

    body = {"field": "address", "value": "佛山市南海区桂城街道1号3楼"}
    assert (
        await http.post(f"{rules}/customers/{customer_id}/resolve", headers=reader, json=body)
    ).status_code == 403
    r = await http.post(f"{rules}/customers/{customer_id}/resolve", headers=sales, json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["requested"], r.json()["value"]) == (True, "佛山市南海区桂城街道1号3楼")
    await pusher.confirmed(customer_id, 2)
    await pusher.trigger()
    await asyncio.sleep(3)  # one more push run and a moment: the settled value is sent once
    record = await erp_record(http, sim, erp_id)
    assert (record["fields"]["address"], record["save_count"]) == ("佛山市南海区桂城街道1号3楼", saves + 1)

    await _erp_shows(erp_id, code, {**same, "address": "佛山市顺德区大良1号"})
    await eventually(held, timeout_s=90)
    r = await http.post(
        f"{rules}/customers/{customer_id}/resolve",
        headers=sales,
        json={"field": "address", "choose": "pending"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["requested"], r.json()["value"]) == (False, "佛山市顺德区大良1号")  # the ERP's: agreed
    assert await saves_of(http, sim, erp_id) == saves + 1

    history = (await http.get(f"{rules}/customers/{customer_id}/history", headers=reader)).json()["changes"]
    audits = [h for h in history if h["trigger"] == "manual_merge"]
    assert [(h["new"], h["change_type"], h["value_source"]) for h in audits] == [
        ("佛山市顺德区大良1号", "merge", "manual"),
        ("佛山市南海区桂城街道1号3楼", "merge", "manual"),
    ]
    assert len({h["changed_by"] for h in audits}) == 1 and audits[0]["changed_by"].startswith("test-")
    entered = {h["field"] for h in history if h["trigger"] == "manual_entry"}
    assert {"company_name", "real_name", "phone", "address"} <= entered
