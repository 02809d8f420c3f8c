"""Seed 000's employee list under `employees:write`, through the real ingest process."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


async def _token(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient, scopes: list[str]
) -> dict[str, str]:
    return bearer(await login(http, services["ingest"].url, *await create_client(admin, scopes)))


@pytest.fixture
async def ctx(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    auth = await _token(admin, services, http, ["employees:write"])
    return {"url": f"{services['ingest'].url}/sync/employees/batch", "auth": auth, "http": http}


async def _post(ctx: dict[str, Any], body: Any, key: str | None = None) -> httpx.Response:
    headers = {**ctx["auth"], **({"Idempotency-Key": key} if key else {})}
    return await ctx["http"].post(ctx["url"], json=body, headers=headers)  # type: ignore[no-any-return]


async def _stored(admin: asyncpg.Connection, number: str) -> tuple[Any, ...] | None:
    r = await admin.fetchrow(
        "SELECT name, workshop, processes, active FROM ingest.employees WHERE employee_no = $1", number
    )
    return tuple(r) if r else None


def _emp(number: str, **extra: object) -> dict[str, object]:
    return {"number": number, "name": "张三", "workshop": "一车间", "processes": ["镀铬", "磨削"], **extra}


async def test_a_batch_stores_new_and_changed_employees_and_says_what_it_did(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    a, b = f"E{uuid.uuid4().hex[:8]}", f"E{uuid.uuid4().hex[:8]}"
    r = await _post(ctx, {"employees": [_emp(a), _emp(b, active=False)]})
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["unchanged"], r.json()["rejected"]) == (2, 0, 0)
    assert await _stored(admin, a) == ("张三", "一车间", ["磨削", "镀铬"], True)
    assert await _stored(admin, b) == ("张三", "一车间", ["磨削", "镀铬"], False)
    r = await _post(ctx, {"employees": [_emp(a), _emp(b, processes=["抛光"], active=True)]})
    assert [x["status"] for x in r.json()["results"]] == ["unchanged", "accepted"]
    assert await _stored(admin, b) == ("张三", "一车间", ["抛光"], True)


async def test_bad_rows_are_rejected_with_a_reason_and_good_rows_kept(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    good = f"E{uuid.uuid4().hex[:8]}"
    rows = [
        _emp(good),
        {"name": "无工号"},
        _emp(good),
        _emp("E-x", active="yes"),
        _emp("E-y", processes="镀铬"),
    ]
    r = await _post(ctx, {"employees": rows})
    assert r.status_code == 200, r.text
    reasons = [(x["index"], x["status"], x.get("reason")) for x in r.json()["results"]]
    assert reasons == [
        (0, "accepted", None),
        (1, "rejected", "invalid_employee"),
        (2, "rejected", "duplicate_in_batch"),
        (3, "rejected", "invalid_employee"),
        (4, "rejected", "invalid_employee"),
    ]
    assert all(x["message"] for x in r.json()["results"][1:])
    assert await _stored(admin, "E-x") is None and await _stored(admin, "E-y") is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"employees": []}, 422, "empty_batch"),
        ({"staff": []}, 422, "invalid_request"),
        ([1], 422, "invalid_request"),
    ],
)
async def test_a_malformed_body_gets_a_stable_code(
    ctx: dict[str, Any], body: Any, status: int, code: str
) -> None:
    r = await _post(ctx, body)
    assert (r.status_code, r.json()["code"]) == (status, code)


async def test_more_rows_than_the_batch_limit_is_413(ctx: dict[str, Any]) -> None:
    r = await _post(ctx, {"employees": [_emp(f"E{i}") for i in range(10_001)]})
    assert (r.status_code, r.json()["code"]) == (413, "too_many_rows")


async def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    n = f"E{uuid.uuid4().hex[:8]}"
    first, twin = await asyncio.gather(
        _post(ctx, {"employees": [_emp(n)]}, key=n), _post(ctx, {"employees": [_emp(n)]}, key=n)
    )
    assert first.status_code == twin.status_code == 200
    assert first.content == twin.content and first.json()["accepted"] == 1
    other = await _post(ctx, {"employees": [_emp(n, name="李四")]}, key=n)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert (await _stored(admin, n) or ())[0] == "张三"


async def test_the_scope_is_required(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    auth = await _token(admin, services, http, ["contracts:write"])
    r = await http.post(
        f"{services['ingest'].url}/sync/employees/batch", json={"employees": [_emp("E1")]}, headers=auth
    )
    assert r.status_code == 403, r.text


def _gauge(text: str, flag: str) -> float:
    line = next(
        x for x in text.splitlines() if x.startswith(f'rollsync_progress_flagged_reporter{{flag="{flag}"}}')
    )
    return float(line.split()[-1])


async def test_a_report_by_an_unknown_or_inactive_reporter_is_accepted_flagged_and_counted(
    ctx: dict[str, Any],
    admin: asyncpg.Connection,
    services: dict[str, ServiceProcess],
    http: httpx.AsyncClient,
) -> None:
    url = services["ingest"].url
    active, gone = f"E{uuid.uuid4().hex[:8]}", f"E{uuid.uuid4().hex[:8]}"
    assert (await _post(ctx, {"employees": [_emp(active), _emp(gone, active=False)]})).json()["accepted"] == 2
    auth = await _token(admin, services, http, ["contracts:write", "progress:write"])
    c = f"RP{uuid.uuid4().hex[:8]}"
    rows = [{"合同编号": c, "产品ID": "P1", "产品名称": "陶瓷网纹辊", p: "未开始"} for p in ("热喷涂",)]
    rows[0].update({"磨削": "未开始", "镀铬": "未开始"})
    assert (await http.post(f"{url}/sync/contracts/batch", json={"contracts": rows}, headers=auth)).json()[
        "accepted"
    ] == 1
    before = (await http.get(f"{url}/metrics")).text
    by = {"热喷涂": active, "磨削": gone, "镀铬": f"nobody-{uuid.uuid4().hex[:6]}"}
    for process, who in by.items():
        body = {process: "进行中", "updated_by": who, "update_time": "2024-05-01T10:00:00Z"}
        r = await http.put(f"{url}/sync/contracts/{c}/progress", json=body, headers=auth)
        assert r.status_code == 200, r.text
    flags = dict(
        await admin.fetch(
            "SELECT process, reporter_flag FROM ingest.progress_state WHERE contract_no = $1", c
        )
    )
    assert flags == {"热喷涂": None, "磨削": "inactive", "镀铬": "unknown"}
    after = (await http.get(f"{url}/metrics")).text
    assert _gauge(after, "inactive") >= _gauge(before, "inactive") + 1
    assert _gauge(after, "unknown") >= _gauge(before, "unknown") + 1
