"""Seed 000 `processes:write`: transform's process catalogue through its HTTP API on the real stack, and its
ProcessChanged events reaching ingest's copy (real Kafka, real PostgreSQL, the services as processes)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from common.events.envelope import Envelope
from common.events.transform import ProcessChanged
from tests.support.api import bearer, create_client, eventually, login
from tests.support.kafka_events import publish
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def api(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    scopes = ["processes:write", "contracts:write", "progress:write", "sync:read"]
    token = await login(http, services["ingest"].url, *await create_client(admin, scopes))
    return {
        "http": http,
        "auth": bearer(token),
        "transform": services["transform"].url,
        "ingest": services["ingest"].url,
    }


def _name(prefix: str = "工序") -> str:
    return f"{prefix}{uuid.uuid4().hex[:6].upper()}"


async def _call(api: dict[str, Any], method: str, path: str, body: Any = None) -> httpx.Response:
    r: httpx.Response = await api["http"].request(
        method, f"{api['transform']}{path}", json=body, headers=api["auth"]
    )
    return r


async def _contract(api: dict[str, Any], columns: dict[str, str], name: str = "陶瓷网纹辊") -> str:
    c = f"PC{uuid.uuid4().hex[:8]}"
    row = {"合同编号": c, "产品ID": "P1", "产品名称": name, **columns}
    r = await api["http"].post(
        f"{api['ingest']}/sync/contracts/batch", json={"contracts": [row]}, headers=api["auth"]
    )
    assert r.json()["accepted"] == 1, r.text
    return c


async def _report(api: dict[str, Any], contract: str, process: str, status: str = "进行中") -> httpx.Response:
    body = {process: status, "updated_by": "worker_li"}
    r: httpx.Response = await api["http"].put(
        f"{api['ingest']}/sync/contracts/{contract}/progress", json=body, headers=api["auth"]
    )
    return r


async def _detail(api: dict[str, Any], contract: str) -> Any:
    got = await api["http"].get(f"{api['transform']}/contracts/{contract}", headers=api["auth"])
    return got.json()["lines"][0] if got.status_code == 200 else None


async def test_the_catalogue_lists_the_seeded_processes_and_routes(api: dict[str, Any]) -> None:
    body = (await _call(api, "GET", "/processes")).json()
    names = {p["name"] for p in body["processes"]}
    assert {"基辊加工", "热喷涂", "陶瓷磨削", "包装发货"} <= names
    assert [s["process"] for s in body["routes"]["anilox"]][:2] == ["基辊加工", "动平衡"]


async def test_the_scope_is_required(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    token = await login(http, services["ingest"].url, *await create_client(admin, ["sync:read"]))
    url = services["transform"].url
    listed = await http.get(f"{url}/processes", headers=bearer(token))
    added = await http.post(f"{url}/processes", json={"name": _name()}, headers=bearer(token))
    assert (listed.status_code, added.status_code) == (403, 403)
    assert added.json()["code"] == "insufficient_scope"


async def test_an_added_process_reaches_ingest_and_its_alias_maps_the_local_column(
    api: dict[str, Any], admin: asyncpg.Connection
) -> None:
    name, alias = _name(), _name("本地列")
    c = await _contract(api, {"基辊加工": "已完成"})
    assert (await _report(api, c, name)).json()["code"] == "unknown_process"  # not yet in the catalogue
    r = await _call(api, "POST", "/processes", {"name": name, "aliases": [alias]})
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["aliases"], r.json()["version"]) == (name, [alias], 1)

    async def accepted() -> httpx.Response | None:
        got = await _report(api, c, alias)  # by the local column's name: recorded under the cloud's
        return got if got.status_code == 200 else None

    answer = await eventually(accepted)
    assert answer.json()["updates"][0]["process"] == name
    copy = await admin.fetchrow(
        "SELECT name, aliases, version FROM ingest.process_catalog WHERE name = $1", name
    )
    assert copy is not None and (copy["aliases"], copy["version"]) == ([alias], 1)
    # A line uploaded with the alias as its column shows the process under the cloud's name.
    line_c = await _contract(api, {"基辊加工": "已完成", alias: "进行中"})
    line = await eventually(lambda: _detail(api, line_c))
    assert {p["process"]: p["uploaded_status"] for p in line["processes"]}[name] == "进行中"
    assert alias not in line["extra_columns"]
    # Back to the factory: the feed names the process by the cloud's name and says which column the line used.
    cursor = await _feed_end(api)
    assert (await _report(api, line_c, name, "已完成")).status_code == 200
    item = await _feed_item(api, cursor, line_c, name, "已完成")
    assert item["processes"][name] | {"updated_at": None} == {
        "status": "已完成",
        "updated_by": "worker_li",
        "updated_at": None,
        "source": "report",
        "column": alias,
    }


async def _feed_end(api: dict[str, Any]) -> str:
    feed = f"{api['transform']}/sync/pending-updates"
    r = await api["http"].get(feed, params={"since": "2100-01-01T00:00:00Z"}, headers=api["auth"])
    return str(r.json()["next_cursor"])


async def _feed_item(
    api: dict[str, Any], cursor: str, contract: str, process: str, status: str
) -> dict[str, Any]:
    """The first feed item after `cursor` for `contract` that shows `process` in `status`."""
    feed, since, items = f"{api['transform']}/sync/pending-updates", cursor, []

    async def found() -> dict[str, Any] | None:
        nonlocal since
        page = (await api["http"].get(feed, params={"since": since}, headers=api["auth"])).json()
        items.extend(page["contracts"])
        since = page["next_cursor"]
        mine = (i for i in items if i["合同编号"] == contract)
        return next((i for i in mine if i["processes"].get(process, {}).get("status") == status), None)

    item: dict[str, Any] = await eventually(found)
    return item


async def test_a_rename_keeps_the_old_name_resolving_with_history_everywhere(
    api: dict[str, Any], admin: asyncpg.Connection
) -> None:
    old, new = _name(), _name("新名")
    assert (await _call(api, "POST", "/processes", {"name": old})).status_code == 201
    c = await _contract(api, {"基辊加工": "已完成", old: "未开始"})
    assert (await _report(api, c, old)).status_code == 200
    await eventually(lambda: _reported(api, c, old, "进行中"))
    r = await _call(api, "POST", f"/processes/{old}/rename", {"name": new})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["former_names"], r.json()["version"]) == (new, [old], 2)
    by_old = (await _call(api, "GET", f"/processes/{old}")).json()
    assert by_old["name"] == new
    assert [(h["change"], h["detail"]) for h in by_old["history"]] == [
        ("added", {"name": old, "aliases": []}),
        ("renamed", {"from": old, "to": new}),
    ]
    # transform moved the line's stored state to the new name; ingest's copy follows through the event,
    # and the process's version sequence continues under the new name.
    line = await _detail(api, c)
    assert {p["process"] for p in line["processes"]} >= {new} and old not in {
        p["process"] for p in line["processes"]
    }

    async def renamed_in_ingest() -> bool:
        return bool(
            await admin.fetchval("SELECT 1 FROM ingest.process_catalog WHERE name = $1 AND version = 2", new)
        )

    await eventually(renamed_in_ingest)
    cursor = await _feed_end(api)
    done = await _report(api, c, old, "已完成")  # the local system's column still says the old name
    assert done.status_code == 200, done.text
    assert done.json()["updates"][0] == {"process": new, "status": "已完成", "version": 2}
    await eventually(lambda: _reported(api, c, new, "已完成"))
    item = await _feed_item(api, cursor, c, new, "已完成")
    assert item["processes"][new]["column"] == old  # the agent writes the status back into the old column


async def _reported(api: dict[str, Any], contract: str, process: str, status: str) -> bool:
    line = await _detail(api, contract)
    return (
        bool(line) and {p["process"]: p["reported_status"] for p in line["processes"]}.get(process) == status
    )


async def test_reordering_a_route_and_setting_weights_change_new_lines_progress(api: dict[str, Any]) -> None:
    before = (await _call(api, "GET", "/processes")).json()["routes"]["repair"]
    order = [s["process"] for s in before]
    try:
        moved = [order[1], order[0], *order[2:]]  # 基辊加工 before 退铬退铜
        r = await _call(api, "PUT", "/process-routes/repair", {"steps": moved})
        assert r.status_code == 200, r.text
        steps = r.json()["steps"]
        assert [s["process"] for s in steps] == moved
        assert [s["seq"] for s in steps] == [10 * (i + 1) for i in range(len(moved))]
        assert {s["process"]: s["weight"] for s in steps} == {s["process"]: s["weight"] for s in before}
        w = await _call(
            api, "PUT", "/process-routes/repair/weights", {"weights": {moved[0]: 9, moved[1]: "1"}}
        )
        assert w.status_code == 200, w.text
        c = await _contract(api, {moved[0]: "已完成", moved[1]: "未开始"}, name="网纹辊修复")
        line = await eventually(lambda: _detail(api, c))
        assert line["product_type"] == "repair"
        assert line["current_process"] == moved[1]
        assert line["progress_percentage"] == 90.0  # 9 of 9 + 1 weight finished
    finally:
        restore = [{"process": s["process"], "weight": s["weight"]} for s in before]
        assert (await _call(api, "PUT", "/process-routes/repair", {"steps": restore})).status_code == 200


async def test_a_retired_process_leaves_routes_and_reports(api: dict[str, Any]) -> None:
    name = _name()
    assert (await _call(api, "POST", "/processes", {"name": name})).status_code == 201
    before = (await _call(api, "GET", "/processes")).json()["routes"]["chrome"]
    steps = [s["process"] for s in before]
    try:
        assert (
            await _call(api, "PUT", "/process-routes/chrome", {"steps": [*steps, name]})
        ).status_code == 200
        busy = await _call(api, "POST", f"/processes/{name}/retire")
        assert (busy.status_code, busy.json()["code"]) == (409, "process_in_route")
        assert (await _call(api, "PUT", "/process-routes/chrome", {"steps": steps})).status_code == 200
        retired = await _call(api, "POST", f"/processes/{name}/retire")
        assert retired.status_code == 200 and retired.json()["active"] is False
        back = await _call(api, "PUT", "/process-routes/chrome", {"steps": [*steps, name]})
        assert (back.status_code, back.json()["code"]) == (422, "process_retired")
    finally:
        restore = [{"process": s["process"], "weight": s["weight"]} for s in before]
        assert (await _call(api, "PUT", "/process-routes/chrome", {"steps": restore})).status_code == 200
    c = await _contract(api, {"基辊加工": "已完成"})

    async def refused() -> bool:
        return (await _report(api, c, name)).status_code == 422

    await eventually(refused)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/processes", {"name": "热喷涂"}, 422, "duplicate_name"),
        ("POST", "/processes", {"name": "ＮＥＷ", "aliases": ["new"]}, 422, "duplicate_name"),
        ("POST", "/processes", {"name": "热喷涂　"}, 422, "duplicate_name"),  # full-width space, trimmed
        ("POST", "/processes", {"name": "甲方"}, 422, "reserved_name"),
        ("POST", "/processes", {"name": "a/b"}, 422, "invalid_name"),
        ("POST", "/processes", {"name": ""}, 422, "invalid_name"),
        ("POST", "/processes", {"name": "x" * 41}, 422, "invalid_name"),
        (
            "POST",
            "/processes",
            {"name": "新X", "aliases": [f"别名{i}" for i in range(21)]},
            422,
            "too_many_aliases",
        ),
        ("POST", "/processes", ["热喷涂"], 422, "invalid_request"),
        ("POST", "/processes/无此工序/rename", {"name": "新名"}, 404, "process_not_found"),
        ("POST", "/processes/热喷涂/rename", {"name": "陶瓷磨削"}, 422, "duplicate_name"),
        ("PUT", "/processes/热喷涂/aliases", {"aliases": ["镀铬"]}, 422, "duplicate_name"),
        ("PUT", "/process-routes/anilox", {"steps": ["热喷涂"] * 61}, 422, "too_many_steps"),
        ("PUT", "/process-routes/anilox", {"steps": ["热喷涂", "热喷涂"]}, 422, "duplicate_in_route"),
        ("PUT", "/process-routes/anilox", {"steps": []}, 422, "invalid_route"),
        ("PUT", "/process-routes/anilox", {"steps": ["无此工序"]}, 422, "unknown_process"),
        ("PUT", "/process-routes/no-such-type", {"steps": ["热喷涂"]}, 404, "unknown_product_type"),
        ("PUT", "/process-routes/anilox/weights", {"weights": {"热喷涂": -1}}, 422, "invalid_weight"),
        ("PUT", "/process-routes/anilox/weights", {"weights": {"镀铜": 1}}, 422, "process_not_in_route"),
    ],
)
async def test_bad_input_gets_a_stable_code_and_changes_nothing(
    api: dict[str, Any], method: str, path: str, body: Any, status: int, code: str
) -> None:
    before = (await _call(api, "GET", "/processes")).json()
    r = await _call(api, method, path, body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert (await _call(api, "GET", "/processes")).json() == before


async def test_a_full_width_name_is_stored_half_width(api: dict[str, Any]) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in tag)
    r = await _call(api, "POST", "/processes", {"name": f"工序（{wide}）"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == f"工序({tag})"


async def test_malformed_json_is_400(api: dict[str, Any]) -> None:
    r = await api["http"].post(
        f"{api['transform']}/processes",
        content=b"{",
        headers={**api["auth"], "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "malformed_json")


async def test_ingest_copy_never_moves_back_on_a_late_or_repeated_event(
    api: dict[str, Any], admin: asyncpg.Connection
) -> None:
    name, alias = _name(), _name("别名")
    added = (await _call(api, "POST", "/processes", {"name": name})).json()
    r = await _call(api, "PUT", f"/processes/{name}/aliases", {"aliases": [alias]})
    assert r.json()["version"] == 2

    async def copied() -> bool:
        got = await admin.fetchval(
            "SELECT version FROM ingest.process_catalog WHERE process_id = $1", added["id"]
        )
        return bool(got == 2)

    await eventually(copied)
    stale = ProcessChanged(process_id=added["id"], version=1, name=name, active=True, change="added")
    late = Envelope[ProcessChanged](
        event_type="ProcessChanged", source="test", correlation_id="t", payload=stale
    )
    again = Envelope[ProcessChanged](
        event_type="ProcessChanged", source="test", correlation_id="t", payload=stale
    )
    for envelope in (late, again, late):  # a late version 1, the same once more, and a redelivery
        await publish(topics.TRANSFORM_PROCESS_CHANGED, str(added["id"]), envelope)

    async def consumed() -> bool:
        seen = await admin.fetchval(
            "SELECT count(*) FROM ingest.inbox WHERE consumer = 'ingest-processes' AND event_id = any($1::uuid[])",
            [late.event_id, again.event_id],
        )
        return bool(seen == 2)

    await eventually(consumed)
    row = await admin.fetchrow(
        "SELECT aliases, version FROM ingest.process_catalog WHERE process_id = $1", added["id"]
    )
    assert row is not None and (row["aliases"], row["version"]) == ([alias], 2)  # never back to version 1
