"""Seed 000's employee list in transform: "my queue" on the contract list (`?employee=<工号>`), fed by
ingest.employee-changed.v1, and the reporter flag in the contract detail. Real Kafka, PostgreSQL, services."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from common.events.envelope import Envelope
from common.events.ingest import EmployeeChanged
from tests.support.api import bearer, create_client, eventually, login
from tests.support.kafka_events import publish
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def api(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    scopes = ["employees:write", "contracts:write", "progress:write", "sync:read"]
    token = await login(http, services["ingest"].url, *await create_client(admin, scopes))
    tag = uuid.uuid4().hex[:8].upper()
    return {
        "http": http,
        "auth": bearer(token),
        "transform": services["transform"].url,
        "ingest": services["ingest"].url,
        "tag": tag,
    }


async def _employees(api: dict[str, Any], *rows: dict[str, Any]) -> None:
    r = await api["http"].post(
        f"{api['ingest']}/sync/employees/batch", json={"employees": list(rows)}, headers=api["auth"]
    )
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text


async def _lines(api: dict[str, Any], rows: list[dict[str, str]]) -> None:
    r = await api["http"].post(
        f"{api['ingest']}/sync/contracts/batch", json={"contracts": rows}, headers=api["auth"]
    )
    assert r.json()["accepted"] == len(rows), r.text


async def _queue(api: dict[str, Any], employee: str) -> httpx.Response:
    r: httpx.Response = await api["http"].get(
        f"{api['transform']}/contracts", params={"employee": employee, "q": api["tag"]}, headers=api["auth"]
    )
    return r


async def _mine(api: dict[str, Any], employee: str) -> list[str]:
    r = await _queue(api, employee)
    return sorted(c["contract_no"] for c in r.json()["contracts"]) if r.status_code == 200 else []


@pytest.fixture
async def floor(api: dict[str, Any]) -> dict[str, str]:
    """Two contracts: one waiting at 热喷涂, one at 基辊加工; a sprayer, and an inactive one."""
    spray, grind = f"Q{api['tag']}S", f"Q{api['tag']}B"
    done = {"基辊加工": "已完成", "动平衡": "已完成", "喷砂": "已完成"}
    await _lines(
        api,
        [
            {"合同编号": spray, "产品ID": "P1", "产品名称": "陶瓷网纹辊", **done, "热喷涂": "未开始"},
            {"合同编号": grind, "产品ID": "P1", "产品名称": "陶瓷网纹辊", "基辊加工": "进行中"},
        ],
    )
    sprayer, gone = f"E{api['tag']}1", f"E{api['tag']}2"
    await _employees(
        api,
        {"number": sprayer, "name": f"喷涂工{api['tag']}", "processes": ["热喷涂"]},
        {"number": gone, "name": f"离职{api['tag']}", "processes": ["热喷涂"], "active": False},
    )
    return {"spray": spray, "grind": grind, "sprayer": sprayer, "gone": gone}


async def test_my_queue_lists_the_contracts_waiting_at_my_processes_and_follows_the_list(
    api: dict[str, Any], floor: dict[str, str]
) -> None:
    assert await eventually(lambda: _mine(api, floor["sprayer"])) == [floor["spray"]]
    await _employees(api, {"number": floor["sprayer"], "name": "喷涂工", "processes": ["基辊加工", "镀铬"]})

    async def moved() -> bool:
        return await _mine(api, floor["sprayer"]) == [floor["grind"]]

    await eventually(moved)
    everyone = await api["http"].get(
        f"{api['transform']}/contracts", params={"q": api["tag"]}, headers=api["auth"]
    )
    assert everyone.json()["total"] == 2  # without `employee` nothing is filtered


async def test_a_full_width_number_finds_the_same_employee(
    api: dict[str, Any], floor: dict[str, str]
) -> None:
    await eventually(lambda: _mine(api, floor["sprayer"]))
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in floor["sprayer"])
    assert await _mine(api, wide) == [floor["spray"]]


async def test_an_unknown_or_inactive_employee_has_no_queue(
    api: dict[str, Any], floor: dict[str, str]
) -> None:
    async def inactive() -> httpx.Response | None:
        r = await _queue(api, floor["gone"])
        return r if r.status_code != 404 else None

    r = await eventually(inactive)
    assert (r.status_code, r.json()["code"]) == (409, "employee_inactive")
    r = await _queue(api, f"NOBODY{api['tag']}")
    assert (r.status_code, r.json()["code"]) == (404, "employee_not_found")
    r = await _queue(api, "x" * 101)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


async def test_the_reporter_flag_shows_in_the_contract_detail(
    api: dict[str, Any], floor: dict[str, str]
) -> None:
    await eventually(lambda: _mine(api, floor["sprayer"]))  # the list has reached ingest and transform
    c = floor["spray"]
    by = {"热喷涂": floor["sprayer"], "陶瓷磨削": floor["gone"], "抛光": f"nobody-{api['tag']}"}
    for process, who in by.items():
        body = {process: "进行中", "updated_by": who}
        r = await api["http"].put(
            f"{api['ingest']}/sync/contracts/{c}/progress", json=body, headers=api["auth"]
        )
        assert r.status_code == 200, r.text

    async def flags() -> dict[str, Any] | None:
        got = await api["http"].get(f"{api['transform']}/contracts/{c}", headers=api["auth"])
        processes = {p["process"]: p for p in got.json()["lines"][0]["processes"]}
        if all(processes.get(p, {}).get("reported_by") == who for p, who in by.items()):
            return {p: processes[p]["reporter_flag"] for p in by}
        return None

    assert await eventually(flags) == {"热喷涂": None, "陶瓷磨削": "inactive", "抛光": "unknown"}


async def test_transform_copy_never_moves_back_on_a_late_event(
    api: dict[str, Any], admin: asyncpg.Connection, floor: dict[str, str]
) -> None:
    number = floor["sprayer"]
    await _employees(api, {"number": number, "name": "喷涂工", "processes": ["镀铬"]})  # version 2

    async def copied() -> bool:
        got = await admin.fetchval("SELECT version FROM transform.employees WHERE employee_no = $1", number)
        return bool(got == 2)

    await eventually(copied)
    stale = EmployeeChanged(
        number=number, version=1, name="旧", workshop="", processes=["热喷涂"], active=True
    )
    late = Envelope[EmployeeChanged](
        event_type="EmployeeChanged", source="test", correlation_id="t", payload=stale
    )
    await publish(topics.INGEST_EMPLOYEE_CHANGED, number, late)

    async def consumed() -> bool:
        return bool(
            await admin.fetchval(
                "SELECT 1 FROM transform.inbox WHERE consumer = 'transform-employees' AND event_id = $1",
                late.event_id,
            )
        )

    await eventually(consumed)
    row = await admin.fetchrow(
        "SELECT processes, version FROM transform.employees WHERE employee_no = $1", number
    )
    assert row is not None and (row["processes"], row["version"]) == (["镀铬"], 2)


async def test_an_employee_uploaded_before_the_events_existed_is_published_at_the_next_start(
    api: dict[str, Any], admin: asyncpg.Connection, services: dict[str, ServiceProcess], floor: dict[str, str]
) -> None:
    number = f"E{api['tag']}OLD"
    await admin.execute(  # as migration 0056 leaves a row of the old release: never announced
        "INSERT INTO ingest.employees (employee_no, name, processes, client_id, announced)"
        " VALUES ($1, '老员工', '{热喷涂}', 'before', false)",
        number,
    )
    services["ingest"].stop()
    services["ingest"].start()
    assert await eventually(lambda: _mine(api, number)) == [floor["spray"]]
    assert await admin.fetchval("SELECT announced FROM ingest.employees WHERE employee_no = $1", number)
