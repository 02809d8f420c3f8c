"""One customer through real Kafka, PostgreSQL and the rules process: an ERP pull, then a WeChat capture of
the same customer; merged per seed 004's conflict rules, decided by the rule book, a push requested."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from common import topics
from common.events.customers import ErpCustomerPulled, WechatCustomerCaptured
from common.events.envelope import Envelope
from tests.support.api import bearer, create_client, eventually, login
from tests.support.kafka_events import publish
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


async def _customer(
    admin: asyncpg.Connection, erp_id: int, capture_version: int = 0
) -> asyncpg.Record | None:
    return await admin.fetchrow(
        "SELECT * FROM rules.customers_unified WHERE erp_customer_id = $1 AND capture_version >= $2",
        erp_id,
        capture_version,
    )


async def _requests(admin: asyncpg.Connection, customer_id: str) -> list[dict[str, Any]]:
    rows = await admin.fetch(
        "SELECT payload, headers FROM rules.outbox WHERE key = $1 AND topic = $2 ORDER BY created_at",
        customer_id,
        topics.RULES_CUSTOMER_SYNC_REQUESTED,
    )
    return [orjson.loads(r["payload"]) for r in rows]


async def test_erp_pull_then_wechat_capture_are_merged_decided_and_pushed_without_echo(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    erp_id, wechat_id, name = 7_000_000_000 + int(tag, 16) % 10**9, f"wx_e2e_{tag}", f"汕头{tag}彩印有限公司"
    now = datetime.now(UTC)

    pulled = ErpCustomerPulled(
        erp_id=erp_id,
        code=None,
        content_hash=f"hash-{tag}",
        pulled_at=now - timedelta(hours=3),
        fields={
            "name": name,
            "mobile": "13900139000",
            "contact_name": "李娜",
            "email": "ln@x.cn",
            "wechat": wechat_id,
        },
    )
    await publish(
        topics.ERP_CUSTOMER_PULLED,
        str(erp_id),
        Envelope[ErpCustomerPulled](
            event_type="ErpCustomerPulled", source="erp-connector", correlation_id=tag, payload=pulled
        ),
    )
    from_erp = await eventually(lambda: _customer(admin, erp_id), timeout_s=90)
    assert (from_erp["company_name"], from_erp["phone"], from_erp["company_name_source"]) == (
        name,
        "13900139000",
        "erp",
    )
    assert from_erp["wechat_id"] == wechat_id
    assert from_erp["erp_sync_status"] == "synced"
    assert await _requests(admin, from_erp["id"]) == []  # it came from the ERP: nothing to send back

    captured = WechatCustomerCaptured(
        wechat_id=wechat_id,
        version=1,
        captured_at=now,
        client_id="e2e",
        fields={
            "company_name": name,
            "phone": "138 0013 8000",
            "real_name": "李小娜",
            "has_order": True,
            "wechat_nickname": "娜娜",
            "message_count": 12,
            "intent_score": 70,
        },
        sources={"phone": "manual", "real_name": "ai"},
        verified=["phone"],
    )
    await publish(
        topics.INGEST_WECHAT_CUSTOMER_CAPTURED,
        wechat_id,
        Envelope[WechatCustomerCaptured](
            event_type="WechatCustomerCaptured", source="ingest", correlation_id=tag, payload=captured
        ),
    )
    merged = await eventually(lambda: _customer(admin, erp_id, capture_version=1), timeout_s=90)
    assert merged["id"] == from_erp["id"]
    assert (merged["phone"], merged["phone_verified"], merged["phone_source"]) == (
        "13800138000",
        True,
        "manual",
    )
    assert (merged["real_name"], merged["real_name_source"]) == ("李娜", "erp")  # unverified local loses
    assert merged["wechat_nickname"] == "娜娜"
    assert (merged["erp_sync_rule"], merged["erp_sync_action"], merged["erp_sync_status"]) == (
        "mandatory_has_order",
        "update",
        "pending",
    )

    history = await admin.fetch(
        "SELECT field_name, change_type, change_reason, old_value, new_value, incoming_value, value_source, trigger"
        " FROM rules.field_change_history WHERE customer_id = $1 ORDER BY id",
        merged["id"],
    )
    by_field = {(h["trigger"], h["field_name"]): h for h in history}
    phone = by_field[("wechat_capture", "phone")]
    assert (phone["change_type"], phone["value_source"]) == ("conflict", "manual")
    assert (orjson.loads(phone["old_value"]), orjson.loads(phone["new_value"])) == (
        "13900139000",
        "13800138000",
    )
    assert "本地已验证" in phone["change_reason"]
    real_name = by_field[("wechat_capture", "real_name")]
    assert (real_name["change_type"], orjson.loads(real_name["incoming_value"])) == ("conflict", "李小娜")
    assert by_field[("erp_pull", "company_name")]["change_type"] == "fill"

    [request] = await _requests(admin, merged["id"])
    payload = request["payload"]
    assert (payload["action"], payload["erp_id"], payload["version"], payload["rule"]) == (
        "update",
        erp_id,
        1,
        "mandatory_has_order",
    )
    assert payload["fields"] == {
        "mobile": "13800138000"
    }  # only what the ERP lacks: no echo of its own values
    assert payload["code"] == merged["code"]

    rules_url = services["rules"].url
    auth = bearer(await login(http, services["ingest"].url, *await create_client(admin, ["admin"])))
    detail = (await http.get(f"{rules_url}/customers/{merged['id']}", headers=auth)).json()
    assert detail["provenance"]["phone"]["erp"]["value"] == "13900139000"
    assert detail["provenance"]["phone"]["local"]["verified"] is True
    changes = (await http.get(f"{rules_url}/customers/{merged['id']}/history", headers=auth)).json()[
        "changes"
    ]
    assert {"conflict", "fill"} <= {c["change_type"] for c in changes}
    q2 = await http.post(
        f"{rules_url}/rules/evaluate",
        headers=auth,
        json={"phone": "13800138000", "company_name": "测试公司", "intent_score": 50},
    )
    assert (q2.json()["action"], q2.json()["reason"]) == ("SKIP", "互动次数不足（0条消息）")
    scrape = (await http.get(f"{rules_url}/metrics")).text
    assert 'rollsync_sync_decisions_total{action="UPDATE",rule="mandatory_has_order"}' in scrape
