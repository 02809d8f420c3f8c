"""rules' HTTP API over the real PostgreSQL: evaluation, admin with audit, dry run, operator queries."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI

from common.events.customers import WechatCustomerCaptured
from common.service import Metrics, base_app
from rules import bootstrap
from rules.adapters.rulebook_store import PostgresRuleSource
from rules.entrypoints.http import router
from rules.service_layer import resync
from rules.service_layer.customers import Captured, apply_captures
from rules.service_layer.decisions import Deps, Trigger
from rules.service_layer.rulebook_cache import RuleBookCache
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration
SIGNER = TestSigner()
Api = Callable[..., Awaitable[httpx.Response]]


def token(scope: str = "admin", client_id: str = "ops-console") -> dict[str, str]:
    return SIGNER.bearer(scope, client_id)


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


@pytest.fixture
async def api(rules_pool: asyncpg.Pool) -> AsyncIterator[Api]:
    app = base_app("rules", Metrics("rules"), _no_lifespan)
    app.include_router(router)
    tokens = SIGNER.verifier()
    app.state.ctx = bootstrap.context(rules_pool, tokens)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rules") as client:

        async def call(
            method: str, path: str, *, auth: dict[str, str] | None = None, **kw: Any
        ) -> httpx.Response:
            return await client.request(method, path, headers=token() if auth is None else auth, **kw)

        yield call


@pytest.fixture
async def test_rules(rules_pool: asyncpg.Pool) -> AsyncIterator[list[str]]:
    """Names of rules a test creates; removed afterwards (the removal bumps the version, as any edit does)."""
    names: list[str] = []
    yield names
    await rules_pool.execute("DELETE FROM erp_sync_rules WHERE rule_name = any($1::text[])", names)


def unique_company() -> str:
    return f"汕头宏达彩印{uuid.uuid4().hex[:8]}有限公司"


def mobile() -> str:
    return "13" + "".join(random.choices("0123456789", k=9))


@pytest.fixture
async def customers(rules_pool: asyncpg.Pool) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Make committed customers; remove them and what hangs off them afterwards."""
    made: list[str] = []

    async def make(**fields: Any) -> str:
        made.append(await committed_customer(rules_pool, **fields))
        return made[-1]

    yield make
    async with rules_pool.acquire() as conn, conn.transaction():
        for table in (
            "field_change_history",
            "sync_decisions",
            "sync_requests",
            "sync_log",
            "customers_unified",
        ):
            column = "id" if table == "customers_unified" else "customer_id"
            await conn.execute(f"DELETE FROM {table} WHERE {column} = any($1::text[])", made)


async def committed_customer(pool: asyncpg.Pool, **fields: Any) -> str:
    """A customer created by the capture handler and committed, its push request withdrawn in the same
    transaction so that no running relay sends it anywhere."""
    wx = f"wx_{uuid.uuid4().hex[:10]}"
    event = WechatCustomerCaptured(
        wechat_id=wx, version=1, captured_at=datetime.now(UTC), client_id="t", fields=fields
    )
    async with pool.acquire() as conn, conn.transaction():
        await apply_captures(
            bootstrap.uow_on(conn),
            [Captured(event, Trigger("wechat_capture", uuid.uuid4(), "t"))],
            Deps(RuleBookCache(PostgresRuleSource(pool))),
        )
        customer_id = await conn.fetchval("SELECT id FROM customers_unified WHERE wechat_id = $1", wx)
        await conn.execute("DELETE FROM outbox WHERE key = $1", customer_id)
    return str(customer_id)


async def test_seed_q2_example_answers_action_and_reason(api: Api) -> None:
    r = await api(
        "POST",
        "/rules/evaluate",
        json={"phone": "13800138000", "company_name": "测试公司", "intent_score": 50},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["action"], body["reason"], body["rule"]) == (
        "SKIP",
        "互动次数不足（0条消息）",
        "low_engagement",
    )
    assert body["quality"]["score"] == 45
    assert {f["factor"]: f["points"] for f in body["quality"]["factors"]} == {
        "phone": 15,
        "company_name": 20,
        "business_license": 0,
        "intent": 10,
    }


async def test_evaluate_normalises_and_decides_a_mandatory_customer(api: Api) -> None:
    r = await api(
        "POST",
        "/rules/evaluate",
        json={
            "phone": "+86 139-0013-9000",
            "company_name": "某某印务",
            "has_contract": True,
            "erp_customer_id": 12,
        },
    )
    assert (r.json()["action"], r.json()["rule"]) == ("UPDATE", "mandatory_has_contract")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"intent_score": "very high"}, 422, "invalid_request"),
        ({"intent_score": 101}, 422, "invalid_request"),
        ({"company_name": "x" * 201}, 422, "invalid_request"),
        ([1, 2], 422, "invalid_request"),
    ],
)
async def test_bad_evaluate_bodies_are_4xx_with_stable_codes(
    api: Api, body: Any, status: int, code: str
) -> None:
    r = await api("POST", "/rules/evaluate", json=body)
    assert (r.status_code, r.json()["code"]) == (status, code)


async def test_malformed_json_is_400(api: Api) -> None:
    r = await api(
        "POST",
        "/rules/evaluate",
        content=b"{not json",
        auth={**token(), "content-type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "malformed_json")


async def test_rules_endpoints_need_an_admin_token(api: Api) -> None:
    r = await api("POST", "/rules/evaluate", auth={}, json={})
    assert (r.status_code, r.json()["code"]) == (401, "missing_token")
    r = await api("GET", "/rules", auth=token("customers:write"))
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_scope")


async def test_rule_edits_are_audited_and_bump_the_version(api: Api, test_rules: list[str]) -> None:
    before = (await api("GET", "/rules")).json()
    name = f"test_{uuid.uuid4().hex[:8]}"
    test_rules.append(name)
    rule = {
        "name": name,
        "priority": 1,
        "conditions": [{"fact": "intent_score", "op": ">=", "value": 99}],
        "action": "skip",
        "reason": "测试规则",
        "enabled": False,
    }
    created = await api("POST", "/rules", json=rule)
    assert created.status_code == 201, created.text
    assert (await api("POST", "/rules", json=rule)).status_code == 409
    patched = await api(
        "PATCH",
        f"/rules/{name}",
        json={"priority": 2, "description": "改过"},
        auth=token(client_id="ops-alice"),
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["priority"], patched.json()["enabled"]) == (2, False)
    after = (await api("GET", "/rules")).json()
    assert after["version"] > before["version"]
    assert next(r for r in after["rules"] if r["name"] == name)["description"] == "改过"
    trail = [
        c
        for c in (await api("GET", "/rules/audit", params={"limit": 50})).json()["changes"]
        if c["key"] == name
    ]
    assert [(c["changed_by"], c["old"] is None) for c in trail] == [
        ("ops-alice", False),
        ("ops-console", True),
    ]
    assert (trail[0]["old"]["priority"], trail[0]["new"]["priority"]) == (1, 2)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("PATCH", "/rules/no_such_rule", {"priority": 3}, 404, "rule_not_found"),
        (
            "PATCH",
            "/rules/low_intent",
            {"conditions": [{"fact": "shoe_size", "op": "present"}]},
            422,
            "invalid_rule",
        ),
        ("PATCH", "/rules/low_intent", {"name": "renamed"}, 422, "invalid_request"),
        ("PUT", "/rules/config/no_such_key", {"value": 3}, 404, "config_not_found"),
        ("PUT", "/rules/config/min_quality_score", {"value": 500}, 422, "invalid_config"),
        ("PUT", "/rules/field-policies/erp_customer_id", {"strategy": "latest"}, 422, "invalid_field"),
        ("PUT", "/rules/field-policies/shoe_size", {"strategy": "latest"}, 404, "field_not_found"),
        ("POST", "/rules/dry-run", {"rules": {"no_such_rule": {"enabled": False}}}, 422, "invalid_rule"),
        ("POST", "/rules/dry-run", {"config": {"min_quality_score": 1e300}}, 422, "invalid_rule"),
        ("PATCH", "/rules/low_intent", {"priority": 10**20}, 422, "integer_out_of_range"),  # shared check
        ("PATCH", "/rules/'%3B--", {"priority": 1}, 404, "rule_not_found"),
        ("GET", "/rules/audit?before=99999999999999999999", None, 422, "invalid_request"),
        ("GET", "/customers/x/history?before=99999999999999999999", None, 422, "invalid_request"),
    ],
)
async def test_admin_refusals_have_stable_codes(
    api: Api, method: str, path: str, body: Any, status: int, code: str
) -> None:
    r = await api(method, path, json=body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


async def test_a_config_change_is_audited(api: Api) -> None:
    current = (await api("GET", "/rules")).json()["config"]["batch_size"]  # informational: harmless to touch
    try:
        r = await api(
            "PUT", "/rules/config/batch_size", json={"value": current + 1}, auth=token(client_id="ops-bob")
        )
        assert r.json() == {"key": "batch_size", "value": current + 1, "previous": current}
        trail = (await api("GET", "/rules/audit", params={"limit": 5})).json()["changes"]
        assert (trail[0]["key"], trail[0]["old"], trail[0]["new"], trail[0]["changed_by"]) == (
            "batch_size",
            current,
            current + 1,
            "ops-bob",
        )
    finally:
        await api("PUT", "/rules/config/batch_size", json={"value": current})


async def test_a_dry_run_counts_who_would_flip_and_saves_nothing(
    api: Api, customers: Callable[..., Awaitable[str]]
) -> None:
    phone = mobile()
    pushed = await customers(
        company_name=f"汕头{uuid.uuid4().hex[:6]}彩印有限公司",
        phone=phone,
        real_name="测试",
        has_order=True,
    )
    before = (await api("GET", "/rules")).json()["version"]
    hold_mine = {
        "name": "test_dry_hold",
        "priority": 1000,
        "conditions": [{"fact": "phone", "op": "==", "value": phone}],
        "action": "skip",
        "reason": "试算",
    }
    r = await api("POST", "/rules/dry-run", json={"new_rules": [hold_mine], "sample": 100})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["to_hold"], body["to_push"]) == (1, 0)
    assert body["evaluated"] >= 1
    [flip] = body["sample"]
    assert flip["customer_id"] == pushed
    assert (flip["before"]["action"], flip["after"]["action"], flip["after"]["rule"]) == (
        "CREATE",
        "SKIP",
        "test_dry_hold",
    )
    after = (await api("GET", "/rules")).json()
    assert after["version"] == before
    assert "test_dry_hold" not in {rule["name"] for rule in after["rules"]}


async def test_customer_detail_history_and_pending_sync(
    api: Api, customers: Callable[..., Awaitable[str]]
) -> None:
    customer_id = await customers(
        company_name=f"东莞{uuid.uuid4().hex[:6]}印务",
        phone=mobile(),
        real_name="测试",
        marked_as_important=True,
    )
    detail = (await api("GET", f"/customers/{customer_id}")).json()
    assert detail["id"] == customer_id
    assert detail["provenance"]["phone"]["source"] == "wechat"
    assert detail["provenance"]["phone"]["local"]["since"]
    assert detail["sync"]["status"] == "pending"
    assert detail["decisions"][0]["rule"] == "mandatory_marked_important"
    history = (await api("GET", f"/customers/{customer_id}/history")).json()
    assert {c["field"] for c in history["changes"]} >= {"company_name", "phone", "real_name"}
    assert all(c["change_type"] == "fill" for c in history["changes"])
    page = (await api("GET", "/customers/pending-sync", params={"limit": 500})).json()
    mine = [c for c in page["customers"] if c["id"] == customer_id]
    assert mine, "a pending mandatory customer is listed"
    assert (mine[0]["sync_priority"], mine[0]["recommended_action"]) == ("mandatory", "CREATE")
    priorities = [c["sync_priority"] for c in page["customers"]]
    order = ["mandatory", "high_quality", "medium_quality", "low_quality"]
    assert priorities == sorted(priorities, key=order.index)


@pytest.mark.parametrize(
    "path",
    [
        "/customers/cu_doesnotexist",
        "/customers/cu_doesnotexist/history",
        "/customers/';%20DROP%20TABLE%20customers_unified;--",
    ],
)
async def test_unknown_customers_are_404(api: Api, path: str) -> None:
    r = await api("GET", path)
    assert (r.status_code, r.json()["code"]) == (404, "customer_not_found")


async def test_a_nul_in_the_path_is_refused_by_the_shared_input_check(api: Api) -> None:
    r = await api("GET", "/customers/%E5%AE%A2%E6%88%B7%00x/history")
    assert (r.status_code, r.json()["code"]) == (422, "unstorable_text")


async def test_sync_statistics_by_day_direction_and_result(
    api: Api, customers: Callable[..., Awaitable[str]], rules_pool: asyncpg.Pool
) -> None:
    customer_id = await customers(phone=mobile())
    await rules_pool.execute(
        "INSERT INTO sync_log (customer_id, sync_direction, sync_type, sync_result) VALUES"
        " ($1, 'local_to_erp', 'push', 'failed'), ($1, 'erp_to_local', 'pull', 'success')",
        customer_id,
    )
    body = (await api("GET", "/customers/sync-statistics", params={"days": 7})).json()
    assert body["failures_last_hour"] >= 1
    today = datetime.now(UTC).date().isoformat()
    keys = {(r["date"], r["direction"], r["result"]) for r in body["rows"]}
    assert {(today, "local_to_erp", "failed"), (today, "erp_to_local", "success")} <= keys
    assert body["totals"]["local_to_erp"]["failed"] >= 1
    assert (await api("GET", "/customers/sync-statistics", params={"days": 0})).status_code == 422


async def test_sync_statistics_endpoint_and_the_seed_view_give_one_answer(
    api: Api, customers: Callable[..., Awaitable[str]], rules_pool: asyncpg.Pool
) -> None:
    customer_id = await customers(phone=mobile())
    await rules_pool.execute(
        "INSERT INTO sync_log (customer_id, sync_direction, sync_type, sync_result, synced_at) VALUES"
        " ($1, 'local_to_erp', 'push', 'partial', now() - interval '1 day'),"
        " ($1, 'local_to_erp', 'push', 'failed', now() - interval '3 days')",
        customer_id,
    )
    view_sql = (
        "SELECT sync_date, sync_direction, sync_result, count FROM v_sync_statistics"
        " WHERE sync_date > (now() AT TIME ZONE 'UTC')::date - 2"
    )
    for _ in range(20):  # another writer may log between the two reads: read until two reads agree
        body = (await api("GET", "/customers/sync-statistics", params={"days": 2})).json()
        served = {(r["date"], r["direction"], r["result"], r["count"]) for r in body["rows"]}
        view = {
            (r["sync_date"].isoformat(), r["sync_direction"], r["sync_result"], r["count"])
            for r in await rules_pool.fetch(view_sql)
        }
        if served == view:
            break
    assert served == view
    dates = {r["date"] for r in body["rows"]}
    assert len(dates) <= 2  # today and yesterday (UTC); the row three days back is outside days=2
    assert any(r[2] == "partial" for r in served)


async def test_seed_q3_force_resync_requests_every_value_again_through_the_outbox(
    api: Api, customers: Callable[..., Awaitable[str]], rules_pool: asyncpg.Pool
) -> None:
    phone = mobile()
    # a name of its own: contract lines other tests left under a shared name would make it has_contract
    customer_id = await customers(phone=phone, company_name=unique_company(), marked_as_important=True)
    first = await rules_pool.fetchval("SELECT sync_version FROM customers_unified WHERE id = $1", customer_id)
    try:
        r = await api("POST", f"/customers/{customer_id}/resync")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["requested"] is True
        assert {"phone", "company_name"} <= set(body["fields"])
        assert body["decision"]["rule"] == "mandatory_marked_important"
        assert body["erp_sync_status"] == "pending"
        # the same request is already outstanding: an automatic path would not ask again, a forced re-sync does
        assert (await api("POST", f"/customers/{customer_id}/resync")).json()["requested"] is True
        rows = await rules_pool.fetch(
            "SELECT payload FROM outbox WHERE key = $1 AND topic = 'rules.customer-sync-requested.v1' ORDER BY id",
            customer_id,
        )
        versions = [orjson.loads(r["payload"])["payload"]["version"] for r in rows]
        assert sorted(versions) == [first + 1, first + 2]  # outbox ids are not an order
        assert (
            phone in orjson.loads(rows[0]["payload"])["payload"]["fields"].values()
        )  # by the ERP's field names
        triggers = await rules_pool.fetch(
            "SELECT trigger FROM sync_decisions WHERE customer_id = $1 AND trigger = 'manual_resync'",
            customer_id,
        )
        assert len(triggers) == 2
    finally:
        await rules_pool.execute("DELETE FROM outbox WHERE key = $1", customer_id)


async def test_seed_q3_force_resync_of_a_customer_the_rules_skip_requests_nothing(
    api: Api, customers: Callable[..., Awaitable[str]], rules_pool: asyncpg.Pool
) -> None:
    customer_id = await customers(wechat_nickname="路人")
    r = await api("POST", f"/customers/{customer_id}/resync")
    assert r.status_code == 200, r.text
    assert (r.json()["requested"], r.json()["decision"]["action"]) == (False, "SKIP")
    assert await rules_pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", customer_id) == 0
    missing = await api("POST", "/customers/cu_nope/resync")
    assert (missing.status_code, missing.json()["code"]) == (404, "customer_not_found")


async def test_seed_q3_in_the_seeds_form_an_sql_status_update_is_worked_off_as_a_resync(
    customers: Callable[..., Awaitable[str]], rules_pool: asyncpg.Pool
) -> None:
    customer_id = await customers(phone=mobile(), company_name=unique_company(), marked_as_important=True)
    await rules_pool.execute(
        "UPDATE customers_unified SET erp_sync_status = 'failed' WHERE id = $1", customer_id
    )
    before = await rules_pool.fetchval(
        "SELECT sync_version FROM customers_unified WHERE id = $1", customer_id
    )
    try:
        # the seed's statement; our ids are text ('cu_…'), so `WHERE id = 123` becomes the customer's id
        await rules_pool.execute(
            f"UPDATE customers_unified\nSET erp_sync_status = 'pending'\nWHERE id = '{customer_id}';"
        )
        queued = "SELECT count(*) FROM resync_requests WHERE customer_id = $1"
        # (a rules process of another test session may work it off first: either way it is done exactly once)
        await resync.work_off_requests(
            bootstrap.uow_factory(rules_pool), Deps(RuleBookCache(PostgresRuleSource(rules_pool)))
        )
        assert await rules_pool.fetchval(queued, customer_id) == 0
        after = await rules_pool.fetchval(
            "SELECT sync_version FROM customers_unified WHERE id = $1", customer_id
        )
        assert (
            after == before + 1
        )  # one push request more, and the service's own 'pending' queued nothing more
        decided = "SELECT count(*) FROM sync_decisions WHERE customer_id = $1 AND trigger = 'manual_resync'"
        assert await rules_pool.fetchval(decided, customer_id) == 1
    finally:
        await rules_pool.execute("DELETE FROM outbox WHERE key = $1", customer_id)
        await rules_pool.execute("DELETE FROM resync_requests WHERE customer_id = $1", customer_id)


async def test_sales_read_customers_with_customers_read_and_nothing_else(
    api: Api, customers: Callable[..., Awaitable[str]]
) -> None:
    sales = token("customers:read", "sales-1")
    phone = mobile()
    tag = uuid.uuid4().hex[:8]
    found = await customers(phone=phone, company_name=f"揭阳{tag}包装有限公司", address="广东省揭阳市榕城区")
    await customers(phone=mobile(), company_name=f"汕头{tag}印务有限公司", address="广东省汕头市龙湖区")
    r = await api("GET", "/customers", auth=sales, params={"name": tag, "region": "揭阳"})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["customers"]] == [found]
    assert r.json()["total"] == 1
    by_phone = await api("GET", "/customers", auth=sales, params={"phone": phone[:11]})
    assert [c["id"] for c in by_phone.json()["customers"]] == [found]
    both = await api("GET", "/customers", auth=sales, params={"name": tag, "limit": 1, "status": "pending"})
    assert both.status_code == 200, both.text
    assert len(both.json()["customers"]) <= 1
    assert (await api("GET", f"/customers/{found}", auth=sales)).status_code == 200
    assert (await api("GET", f"/customers/{found}/history", auth=sales)).status_code == 200
    for method, path in (("GET", "/rules"), ("POST", f"/customers/{found}/resync")):
        assert (await api(method, path, auth=sales)).status_code == 403, path
    for bad in (
        {"limit": 201},
        {"phone": "12a"},
        {"status": "nope"},
        {"name": "a\x00b"},
        {"min_quality": 101},
    ):
        refused = await api("GET", "/customers", auth=sales, params=bad)
        assert refused.status_code == 422, (bad, refused.text)
