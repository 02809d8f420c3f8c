"""Issue 9, transform side: deleted lines, and the feed's full process state after every kind of change.

Deletions arrive as ingest publishes them (HetongRowChanged with deleted=true and the next version), put on
the real topic exactly as ingest's outbox relay would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from common.events.envelope import Envelope
from common.events.ingest import HetongRowChanged
from tests.support.api import bearer, create_client, eventually, login
from tests.support.feed import cursor_now, drain
from tests.support.kafka_events import publish
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e

ANILOX = {"产品名称": "陶瓷网纹辊", "基辊加工": "已完成", "喷砂": "进行中", "热喷涂": "未开始"}


@pytest.fixture
async def env(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    client_id, secret = await create_client(admin)
    auth = bearer(await login(http, services["ingest"].url, client_id, secret))
    c = f"D{uuid.uuid4().hex[:8]}"
    rows = [{"合同编号": c, "产品ID": p, **ANILOX} for p in ("P1", "P2")]
    r = await http.post(
        f"{services['ingest'].url}/sync/contracts/batch", json={"contracts": rows}, headers=auth
    )
    assert r.json()["accepted"] == 2, r.text
    e: dict[str, Any] = {
        "http": http,
        "auth": auth,
        "client_id": client_id,
        "c": c,
        "ingest": services["ingest"].url,
        "transform": services["transform"].url,
    }
    await eventually(lambda: _lines(e), timeout_s=60)
    e["cursor"] = await cursor_now(http, e["transform"], auth)
    return e


async def _lines(e: dict[str, Any]) -> list[str]:
    r = await e["http"].get(f"{e['transform']}/contracts/{e['c']}", headers=e["auth"])
    return [line["product_id"] for line in r.json()["lines"]] if r.status_code == 200 else []


async def _items(e: dict[str, Any], product_id: str) -> list[dict[str, Any]]:
    items, _ = await drain(e["http"], e["transform"], e["auth"], e["cursor"])
    return [i for i in items if (i["合同编号"], i["产品ID"]) == (e["c"], product_id)]


async def _report(e: dict[str, Any], body: dict[str, str]) -> None:
    r = await e["http"].put(
        f"{e['ingest']}/sync/contracts/{e['c']}/progress",
        json={**body, "updated_by": "worker_zhang"},
        headers=e["auth"],
    )
    assert r.status_code == 200, r.text


async def _line_event(e: dict[str, Any], product_id: str, version: int, row: dict[str, Any] | None) -> None:
    payload = HetongRowChanged(
        contract_no=e["c"],
        product_id=product_id,
        version=version,
        content_hash=uuid.uuid4().hex,
        row=row or {},
        source="local_system",
        client_id=e["client_id"],
        received_at=datetime.now(UTC),
        deleted=row is None,
    )
    envelope = Envelope[HetongRowChanged](
        event_type="HetongRowChanged", source="ingest", correlation_id=uuid.uuid4().hex, payload=payload
    )
    # One key for every event of the test: one partition, so they are consumed in the order sent.
    await publish(topics.INGEST_HETONG_ROW_CHANGED, f"{e['c']}/P1", envelope)


async def test_feed_items_carry_full_state_after_upload_and_report(env: dict[str, Any]) -> None:
    await _report(env, {"基辊加工": "返工", "产品ID": "P1"})
    first = await eventually(lambda: _items(env, "P1"))
    assert len(first) == 1
    assert first[0]["deleted"] is False
    assert first[0]["processes"]["基辊加工"] == {
        "status": "返工",
        "updated_by": "worker_zhang",
        "updated_at": first[0]["updated_at"],
        "source": "report",
    }
    sprayed = first[0]["processes"]["喷砂"]
    assert (sprayed["status"], sprayed["source"], sprayed["updated_by"]) == (
        "进行中",
        "upload",
        env["client_id"],
    )
    assert first[0]["processes"]["热喷涂"]["status"] == "未开始"

    # An upload that changes a step is a new word: the next item shows it, beside the earlier report.
    changed = {"合同编号": env["c"], "产品ID": "P1", **ANILOX, "喷砂": "已完成"}
    r = await env["http"].post(
        f"{env['ingest']}/sync/contracts/batch",
        json={"contracts": [changed], "overwrite": True},
        headers=env["auth"],
    )
    assert r.json()["accepted"] == 1, r.text
    await eventually(lambda: _detail_status(env, "P1", "喷砂", "已完成"))
    await _report(env, {"热喷涂": "进行中", "产品ID": "P1"})

    async def second() -> list[dict[str, Any]]:
        items = await _items(env, "P1")
        return items if len(items) == 2 else []

    latest = (await eventually(second))[-1]["processes"]
    assert {p: (v["status"], v["source"]) for p, v in latest.items()} == {
        "基辊加工": ("返工", "report"),
        "喷砂": ("已完成", "upload"),
        "热喷涂": ("进行中", "report"),
    }


async def _detail_status(e: dict[str, Any], product_id: str, process: str, status: str) -> bool:
    r = await e["http"].get(f"{e['transform']}/contracts/{e['c']}", headers=e["auth"])
    line = next(x for x in r.json()["lines"] if x["product_id"] == product_id)
    return any(p["process"] == process and p["uploaded_status"] == status for p in line["processes"])


async def test_a_deleted_line_leaves_the_queries_is_announced_once_and_can_come_back(
    env: dict[str, Any],
) -> None:
    http, auth, c = env["http"], env["auth"], env["c"]
    await _report(env, {"基辊加工": "返工", "产品ID": "P1"})
    await eventually(lambda: _items(env, "P1"))
    await _line_event(env, "P1", 2, None)
    await eventually(lambda: _gone(env))
    listed = await http.get(f"{env['transform']}/contracts", params={"q": c}, headers=auth)
    assert [x["lines"] for x in listed.json()["contracts"]] == [1]

    await _line_event(env, "P1", 2, None)  # redelivered by another relay run: same version, no effect
    await _line_event(env, "P1", 1, {"合同编号": c, "产品ID": "P1", **ANILOX})  # late and older: no effect
    await _line_event(
        env, "P2", 2, {"合同编号": c, "产品ID": "P2", **ANILOX, "备注": "x"}
    )  # a marker after them
    await eventually(lambda: _remark(env, "P2"))
    items = await _items(env, "P1")
    assert [(i["deleted"], i["processes"]) for i in items] == [(False, items[0]["processes"]), (True, {})]
    assert await _lines(env) == ["P2"]
    report = (await http.get(f"{env['transform']}/reports/consistency", headers=auth)).json()
    assert all(
        x["合同编号"] != c for section in report.values() if isinstance(section, list) for x in section
    )

    # Re-uploaded later (newer version, deleted=false): the line is back, and the feed says so.
    await _line_event(env, "P1", 3, {"合同编号": c, "产品ID": "P1", **ANILOX, "热喷涂": "已完成"})
    await eventually(lambda: _both(env))
    items = await _items(env, "P1")
    assert [i["deleted"] for i in items] == [False, True, False]
    back = items[-1]["processes"]
    assert (back["热喷涂"]["status"], back["热喷涂"]["source"]) == ("已完成", "upload")
    # The worker's old report is older than the re-upload: the uploaded value counts.
    assert (back["基辊加工"]["status"], back["基辊加工"]["source"]) == ("已完成", "upload")


async def _gone(e: dict[str, Any]) -> bool:
    return await _lines(e) == ["P2"]


async def _both(e: dict[str, Any]) -> bool:
    return await _lines(e) == ["P1", "P2"]


async def _remark(e: dict[str, Any], product_id: str) -> bool:
    r = await e["http"].get(f"{e['transform']}/contracts/{e['c']}", headers=e["auth"])
    line = next(x for x in r.json()["lines"] if x["product_id"] == product_id)
    return bool(line["version"] == 2)
