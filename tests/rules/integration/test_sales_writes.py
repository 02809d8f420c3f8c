"""Sales staff's writes through rules' HTTP API over the real PostgreSQL: resolve a held value, enter a customer
by hand; scopes, stable refusal codes, history. (Pushes to the ERP: tests/rules/e2e/test_sales_e2e.py.)"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from common.events.customers import ErpCustomerPulled, WechatCustomerCaptured
from common.service import Metrics, base_app
from rules import bootstrap
from rules.adapters.rulebook_store import PostgresRuleSource
from rules.entrypoints.http import router
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Deps, Trigger
from rules.service_layer.rulebook_cache import RuleBookCache
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration
SIGNER = TestSigner()
Api = Callable[..., Awaitable[httpx.Response]]
EDIT, READ = "customers:edit", "customers:read"


def token(scope: str, client_id: str = "sales-1") -> dict[str, str]:
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

        async def call(method: str, path: str, *, scope: str = f"{EDIT} {READ}", **kw: Any) -> httpx.Response:
            return await client.request(method, path, headers=token(scope), **kw)

        yield call


@pytest.fixture
async def made(rules_pool: asyncpg.Pool) -> AsyncIterator[list[str]]:
    """Ids of customers a test made; removed with what hangs off them (and any push request) afterwards."""
    ids: list[str] = []
    yield ids
    async with rules_pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM outbox WHERE key = any($1::text[])", ids)
        for table in (
            "field_change_history",
            "sync_decisions",
            "sync_requests",
            "sync_log",
            "resync_requests",
        ):
            await conn.execute(f"DELETE FROM {table} WHERE customer_id = any($1::text[])", ids)
        await conn.execute("DELETE FROM customers_unified WHERE id = any($1::text[])", ids)


def entry(**change: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    phone = "139" + "".join(random.choices("0123456789", k=8))
    return {"company_name": f"潮州{tag}包装有限公司", "real_name": "陈静", "phone": phone, **change}


async def _history(pool: asyncpg.Pool, customer_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT field_name, change_type, value_source, trigger, changed_by, incoming_value"
        " FROM field_change_history WHERE customer_id = $1 ORDER BY id",
        customer_id,
    )
    return rows


async def test_a_customer_entered_by_hand_is_created_once_and_met_again_by_phone_and_by_company(
    api: Api, rules_pool: asyncpg.Pool, made: list[str]
) -> None:
    body = entry(address="广东省潮州市湘桥区", email="chen@example.com")
    r = await api("POST", "/customers", json=body)
    assert r.status_code == 201, r.text
    first = r.json()
    made.append(first["customer_id"])
    assert (first["created"], first["matched_by"], first["requested"]) == (True, None, False)
    assert first["decision"]["action"] == "SKIP"  # nothing says push yet: no order, no engagement
    row = await rules_pool.fetchrow("SELECT * FROM customers_unified WHERE id = $1", first["customer_id"])
    assert (row["wechat_id"], row["phone"], row["phone_source"], row["company_name"]) == (
        None,
        body["phone"],
        "manual",
        body["company_name"],
    )
    history = await _history(rules_pool, first["customer_id"])
    assert {(h["trigger"], h["changed_by"], h["value_source"]) for h in history} == {
        ("manual_entry", "sales-1", "manual")
    }
    assert {h["field_name"] for h in history} == {"company_name", "real_name", "phone", "address", "email"}

    again = await api("POST", "/customers", json=body)  # a retried request: same customer, nothing new
    assert again.status_code == 200, again.text
    assert (again.json()["customer_id"], again.json()["matched_by"], again.json()["changes"]) == (
        first["customer_id"],
        "phone",
        [],
    )
    spaced = " ".join(body["company_name"])  # the company key ignores spacing and full width
    other = await api("POST", "/customers", json=entry(company_name=spaced, real_name="陈静"))
    assert other.status_code == 200, other.text
    assert (other.json()["customer_id"], other.json()["matched_by"]) == (first["customer_id"], "company_name")
    phone_change = next(c for c in other.json()["changes"] if c["field"] == "phone")
    assert phone_change["change_type"] == "update"  # ours replaced by ours: same source, newer
    assert other.json()["decision"]["action"] == "SKIP"  # decided again, as after any change
    assert len(await _history(rules_pool, first["customer_id"])) > len(history)


async def test_an_entry_meets_a_wechat_customer_by_phone_under_the_capture_policy(
    api: Api, rules_pool: asyncpg.Pool, made: list[str]
) -> None:
    body = entry()
    wx = f"wx_{uuid.uuid4().hex[:10]}"
    captured = WechatCustomerCaptured(
        wechat_id=wx,
        version=1,
        captured_at=datetime.now(UTC) - timedelta(hours=1),
        client_id="t",
        fields={"phone": body["phone"], "real_name": "陈小静"},
    )
    async with rules_pool.acquire() as conn, conn.transaction():
        await apply_captures(
            bootstrap.uow_on(conn),
            [Captured(captured, Trigger("wechat_capture", uuid.uuid4(), "t"))],
            _deps(rules_pool),
        )
        made.append(await conn.fetchval("SELECT id FROM customers_unified WHERE wechat_id = $1", wx))
    r = await api("POST", "/customers", json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["customer_id"], r.json()["matched_by"]) == (made[0], "phone")
    row = await rules_pool.fetchrow("SELECT * FROM customers_unified WHERE id = $1", made[0])
    assert (row["wechat_id"], row["real_name"], row["company_name"]) == (wx, "陈静", body["company_name"])


def _deps(pool: asyncpg.Pool) -> Deps:
    return Deps(RuleBookCache(PostgresRuleSource(pool)))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"company_name": None}, "invalid_request"),  # missing (null)
        ({"phone": 13800138000}, "invalid_request"),  # wrong type
        ({"has_order": "yes"}, "invalid_request"),  # wrong type: a flag is true or false
        ({"wechat_id": "wx_1"}, "invalid_request"),  # not a field of a manual entry
        ({"verified": ["ｐｈｏｎｅ"]}, "invalid_request"),  # full-width field name
        ({"company_name": "潮州\x00包装"}, "unstorable_text"),
        ({"phone": "１３８"}, "invalid_phone"),  # full-width, too short once cleaned
        ({"phone": "ＡＢＣ１２３"}, "invalid_phone"),
        ({"company_name": "　　"}, "missing_company_name"),  # full-width spaces only
        ({"email": "not-an-email"}, "invalid_email"),
        ({"verified": ["email"]}, "invalid_verified"),  # verified a field not entered
    ],
)
async def test_bad_entries_are_refused_with_422_and_a_stable_code(
    api: Api, change: dict[str, Any], code: str
) -> None:
    body = {k: v for k, v in entry(**change).items() if v is not None}
    r = await api("POST", "/customers", json=body)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text


async def test_a_full_width_phone_is_cleaned_as_every_source_is(
    api: Api, rules_pool: asyncpg.Pool, made: list[str]
) -> None:
    body = entry()
    wide = "".join(chr(ord(d) + 0xFEE0) for d in body["phone"])  # what a Chinese IME types
    r = await api("POST", "/customers", json={**body, "phone": wide})
    assert r.status_code == 201, r.text
    made.append(r.json()["customer_id"])
    assert (
        await rules_pool.fetchval("SELECT phone FROM customers_unified WHERE id = $1", made[0])
        == body["phone"]
    )


async def test_scopes_read_cannot_write_and_edit_alone_cannot_read(api: Api, made: list[str]) -> None:
    r = await api("POST", "/customers", json=entry(), scope=READ)
    assert (r.status_code, r.json()["code"]) == (403, "insufficient_scope"), r.text
    r = await api(
        "POST", "/customers/cu_x/resolve", json={"field": "address", "choose": "pending"}, scope=READ
    )
    assert r.status_code == 403, r.text
    r = await api("POST", "/customers", json=entry(), scope=EDIT)
    assert r.status_code == 201, r.text
    made.append(r.json()["customer_id"])
    assert (await api("GET", f"/customers/{made[0]}", scope=EDIT)).status_code == 403
    assert (await api("POST", f"/customers/{made[0]}/resync", scope=EDIT)).status_code == 403  # admin's


async def held_customer(pool: asyncpg.Pool) -> str:
    """A captured customer whose address the ERP showed otherwise within one pull interval: held (pending)."""
    tag = uuid.uuid4().hex[:8]
    wx, name, now = f"wx_{tag}", f"揭阳{tag}印务有限公司", datetime.now(UTC)
    captured = WechatCustomerCaptured(
        wechat_id=wx,
        version=1,
        captured_at=now - timedelta(minutes=10),
        client_id="t",
        fields={
            "company_name": name,
            "phone": "137" + tag[:8].translate(str.maketrans("abcdef", "123456")),
            "address": "揭阳市榕城区1号",
        },
    )
    pulled = ErpCustomerPulled(
        erp_id=8_000_000_000 + int(tag, 16) % 10**9,
        code=None,
        content_hash=tag,
        pulled_at=now,
        fields={"name": name, "wechat": wx, "address": "揭阳市榕城区2号"},
    )
    async with pool.acquire() as conn, conn.transaction():
        deps = _deps(pool)
        await apply_captures(
            bootstrap.uow_on(conn), [Captured(captured, Trigger("wechat_capture", uuid.uuid4(), "t"))], deps
        )
        await apply_pulls(
            bootstrap.uow_on(conn), [Pulled(pulled, Trigger("erp_pull", uuid.uuid4(), "t"))], deps
        )
        customer_id = await conn.fetchval("SELECT id FROM customers_unified WHERE wechat_id = $1", wx)
        await conn.execute("DELETE FROM outbox WHERE key = $1", customer_id)
    return str(customer_id)


async def test_a_held_value_is_resolved_with_an_audit_entry_then_decided_again(
    api: Api, rules_pool: asyncpg.Pool, made: list[str]
) -> None:
    made.append(customer_id := await held_customer(rules_pool))
    detail = (await api("GET", f"/customers/{customer_id}")).json()
    assert detail["pending"] == {
        "address": {"current": "揭阳市榕城区1号", "pending": "揭阳市榕城区2号", "pending_source": "erp"}
    }
    r = await api("POST", f"/customers/{customer_id}/resolve", json={"field": "address", "choose": "pending"})
    assert r.status_code == 200, r.text
    assert (r.json()["value"], r.json()["requested"]) == (
        "揭阳市榕城区2号",
        False,
    )  # the ERP's: nothing to send
    detail = (await api("GET", f"/customers/{customer_id}")).json()
    assert detail["pending"] == {}
    assert (detail["fields"]["address"], detail["provenance"]["address"]["source"]) == (
        "揭阳市榕城区2号",
        "erp",
    )
    [audit] = [h for h in await _history(rules_pool, customer_id) if h["trigger"] == "manual_merge"]
    assert (audit["field_name"], audit["change_type"], audit["value_source"], audit["changed_by"]) == (
        "address",
        "merge",
        "manual",
        "sales-1",
    )
    decisions = await rules_pool.fetchval(
        "SELECT count(*) FROM sync_decisions WHERE customer_id = $1 AND trigger = 'manual_merge'", customer_id
    )
    assert decisions == 1
    again = await api(
        "POST", f"/customers/{customer_id}/resolve", json={"field": "address", "choose": "pending"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "nothing_pending")


async def test_an_entered_value_settles_a_held_one_and_wins(
    api: Api, rules_pool: asyncpg.Pool, made: list[str]
) -> None:
    made.append(customer_id := await held_customer(rules_pool))
    r = await api(
        "POST", f"/customers/{customer_id}/resolve", json={"field": "address", "value": "揭阳市榕城区３号 "}
    )
    assert r.status_code == 200, r.text
    detail = (await api("GET", f"/customers/{customer_id}")).json()
    assert (detail["fields"]["address"], detail["provenance"]["address"]["source"]) == (
        "揭阳市榕城区3号",
        "manual",
    )
    assert detail["provenance"]["address"]["erp"]["value"] == "揭阳市榕城区2号"  # the ERP's stays known


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"field": "address"}, 422, "invalid_request"),  # neither choose nor value
        ({"field": "address", "choose": "pending", "value": "x"}, 422, "invalid_request"),  # both
        ({"field": "address", "choose": "ｐｅｎｄｉｎｇ"}, 422, "invalid_request"),  # full width
        ({"field": "ａｄｄｒｅｓｓ", "choose": "pending"}, 422, "invalid_request"),
        ({"field": "address", "value": {"a": 1}}, 422, "invalid_request"),  # wrong type
        ({"field": "address", "value": 1.5}, 422, "invalid_request"),
        ({"choose": "pending"}, 422, "invalid_request"),  # missing field
        ({"field": "address", "value": "a\x00b"}, 422, "unstorable_text"),
        ({"field": "address", "value": "None"}, 422, "invalid_value"),
        ({"field": "no_such_field", "choose": "pending"}, 422, "invalid_field"),
        ({"field": "email", "choose": "pending"}, 409, "nothing_pending"),
    ],
)
async def test_bad_resolutions_are_refused_with_stable_codes(
    api: Api, rules_pool: asyncpg.Pool, made: list[str], body: dict[str, Any], status: int, code: str
) -> None:
    made.append(customer_id := await held_customer(rules_pool))
    r = await api("POST", f"/customers/{customer_id}/resolve", json=body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    held = await rules_pool.fetchval(
        "SELECT provenance #> '{address,pending,value}' FROM customers_unified WHERE id = $1", customer_id
    )
    assert held is not None  # nothing was decided


async def test_resolving_an_unknown_customer_is_404(api: Api) -> None:
    r = await api("POST", "/customers/cu_nobody/resolve", json={"field": "address", "choose": "pending"})
    assert (r.status_code, r.json()["code"]) == (404, "customer_not_found")


async def test_the_openapi_document_describes_the_writes_and_their_error_codes(api: Api) -> None:
    doc = (await api("GET", "/openapi.json")).json()
    entry_op, resolve_op = (
        doc["paths"]["/customers"]["post"],
        doc["paths"]["/customers/{customer_id}/resolve"]["post"],
    )
    assert {"201", "200", "401", "403", "422"} <= set(entry_op["responses"])
    assert "invalid_phone" in entry_op["responses"]["422"]["description"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(resolve_op["responses"])
    assert "nothing_pending" in resolve_op["responses"]["409"]["description"]
    body = doc["components"]["schemas"]["ManualCustomerBody"]
    assert set(body["required"]) == {"company_name", "real_name", "phone"}
    assert "wechat_id" not in body["properties"]
