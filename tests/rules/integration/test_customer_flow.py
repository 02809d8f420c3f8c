"""Captures, pulls and push results through the real handlers on the real PostgreSQL (each test rolls back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest

from common.events.customers import CustomerPushCompleted, ErpCustomerPulled, WechatCustomerCaptured
from rules.adapters.customers import PostgresCustomerRepository
from rules.adapters.rulebook_store import PostgresRuleSource
from rules.bootstrap import uow_on
from rules.service_layer.candidates import link_contracts
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Deps, Trigger
from rules.service_layer.push_results import Completed, apply_push_results
from rules.service_layer.rulebook_cache import RuleBookCache

pytestmark = pytest.mark.integration
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def deps(rules_pool: asyncpg.Pool) -> Deps:
    return Deps(RuleBookCache(PostgresRuleSource(rules_pool)))


def trigger(name: str) -> Trigger:
    return Trigger(name, uuid.uuid4(), "test")


def unique() -> str:
    return uuid.uuid4().hex[:10]


def capture(
    wechat_id: str, version: int, at: datetime, verified: tuple[str, ...] = (), **fields: Any
) -> Captured:
    event = WechatCustomerCaptured(
        wechat_id=wechat_id,
        version=version,
        captured_at=at,
        client_id="t",
        fields=fields,
        verified=list(verified),
    )
    return Captured(event, trigger("wechat_capture"))


def pull(erp_id: int, at: datetime, code: str | None = None, **fields: Any) -> Pulled:
    event = ErpCustomerPulled(erp_id=erp_id, code=code, content_hash=unique(), pulled_at=at, fields=fields)
    return Pulled(event, trigger("erp_pull"))


def erp_id() -> int:
    return int(uuid.uuid4().int % 10**12) + 10**6


async def history(conn: asyncpg.Connection, customer_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT * FROM field_change_history WHERE customer_id = $1 ORDER BY id", customer_id
    )


async def requests(conn: asyncpg.Connection, customer_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT payload FROM outbox WHERE key = $1 AND topic = 'rules.customer-sync-requested.v1' ORDER BY created_at",
        customer_id,
    )
    return [orjson.loads(r["payload"]) for r in rows]


async def row(conn: asyncpg.Connection, **where: Any) -> asyncpg.Record:
    ((column, value),) = where.items()
    assert column in ("wechat_id", "erp_customer_id", "id")
    found = await conn.fetchrow(f"SELECT * FROM customers_unified WHERE {column} = $1", value)
    assert found is not None
    return found


async def test_a_capture_creates_a_unified_customer_with_provenance_and_a_create_request(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    wx = f"wx_{unique()}"
    fields = {
        "company_name": " 汕头　宏达彩印有限公司",
        "phone": "+86 138-0013-8000",
        "real_name": "张伟",
        "has_order": True,
    }
    await apply_captures(uow_on(tx), [capture(wx, 1, T0, ("phone",), **fields)], deps)
    c = await row(tx, wechat_id=wx)
    assert (c["company_name"], c["phone"], c["phone_verified"], c["phone_source"]) == (
        "汕头宏达彩印有限公司",
        "13800138000",
        True,
        "wechat",
    )
    assert c["code"].startswith("KH-")
    assert c["name_key"] == "汕头宏达彩印有限公司"
    assert (c["erp_sync_status"], c["erp_sync_action"], c["erp_sync_rule"]) == (
        "pending",
        "create",
        "mandatory_has_order",
    )
    provenance = orjson.loads(c["provenance"])
    assert provenance["phone"]["local"]["verified"] is True
    assert provenance["phone"]["at"] == T0.isoformat()
    [request] = await requests(tx, c["id"])
    assert request["event_type"] == "CustomerSyncRequested"
    payload = request["payload"]
    assert (payload["action"], payload["version"], payload["code"], payload["erp_id"]) == (
        "create",
        1,
        c["code"],
        None,
    )
    assert payload["fields"] == {
        "name": "汕头宏达彩印有限公司",
        "mobile": "13800138000",
        "person_name": "张伟",
        "weixinAcc": wx,
    }
    assert {h["field_name"] for h in await history(tx, c["id"])} >= {"company_name", "phone", "real_name"}
    decision = await tx.fetchrow("SELECT * FROM sync_decisions WHERE customer_id = $1", c["id"])
    assert (decision["action"], decision["emitted"], decision["sync_version"]) == ("CREATE", True, 1)


async def test_applying_a_pulled_customer_twice_changes_nothing_the_second_time(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    ord_ = erp_id()
    record = {
        "name": "温州金峰印务有限公司",
        "mobile": "13900139000",
        "contact_name": "李娜",
        "email": "jf@x.cn",
    }
    await apply_pulls(uow_on(tx), [pull(ord_, T0, **record)], deps)
    c = await row(tx, erp_customer_id=ord_)
    first = await history(tx, c["id"])
    assert {h["change_type"] for h in first} == {"fill"}
    assert {h["value_source"] for h in first} == {"erp"}
    # the same content again, from a later scan (a restart, a replay): no change, no push
    await apply_pulls(uow_on(tx), [pull(ord_, T0 + timedelta(hours=1), **record)], deps)
    again = await row(tx, erp_customer_id=ord_)
    assert len(await history(tx, c["id"])) == len(first)
    assert again["company_name"] == "温州金峰印务有限公司"
    assert await requests(tx, c["id"]) == []
    assert again["erp_sync_status"] == "synced"
    pulls = await tx.fetchval(
        "SELECT count(*) FROM sync_log WHERE customer_id = $1 AND sync_type = 'pull'", c["id"]
    )
    assert pulls == 2


async def test_a_pull_for_a_captured_customer_links_it_and_records_conflicts(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    wx, ord_ = f"wx_{unique()}", erp_id()
    name = f"东莞{unique()}包装材料有限公司"
    await apply_captures(
        uow_on(tx),
        [
            capture(
                wx,
                1,
                T0,
                ("phone",),
                company_name=name,
                phone="13800138000",
                real_name="张伟",
                message_count=3,
            )
        ],
        deps,
    )
    await apply_pulls(
        uow_on(tx),
        [
            pull(
                ord_,
                T0 + timedelta(hours=3),
                name=name,
                mobile="13700137000",
                contact_name="张大伟",
                wechat=wx,
            )
        ],
        deps,
    )
    c = await row(tx, wechat_id=wx)
    assert c["erp_customer_id"] == ord_  # matched by the ERP's WeChat account
    assert (c["phone"], c["real_name"]) == ("13800138000", "张大伟")
    changes = {h["field_name"]: h for h in await history(tx, c["id"]) if h["trigger"] == "erp_pull"}
    assert changes["phone"]["change_type"] == "conflict"
    assert orjson.loads(changes["phone"]["incoming_value"]) == "13700137000"
    assert changes["real_name"]["change_type"] == "conflict"
    assert "以 ERP 为准" in changes["real_name"]["change_reason"]


async def test_push_results_set_the_erp_id_and_the_echo_is_not_pushed_back(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    wx = f"wx_{unique()}"
    name = f"昆山{unique()}薄膜科技有限公司"
    await apply_captures(
        uow_on(tx),
        [capture(wx, 1, T0, company_name=name, phone="13800138000", real_name="王芳", has_contract=True)],
        deps,
    )
    c = await row(tx, wechat_id=wx)
    ord_ = erp_id()
    done = CustomerPushCompleted(
        customer_id=c["id"], version=1, result="synced", erp_id=ord_, completed_at=T0 + timedelta(minutes=5)
    )
    await apply_push_results(uow_on(tx), [Completed(done, trigger("push_result"))], deps)
    synced = await row(tx, id=c["id"])
    assert (synced["erp_customer_id"], synced["erp_sync_status"], synced["erp_customer_code"]) == (
        ord_,
        "synced",
        c["code"],
    )
    assert synced["erp_last_pushed"] == T0 + timedelta(minutes=5)
    request = await tx.fetchrow("SELECT * FROM sync_requests WHERE customer_id = $1 AND version = 1", c["id"])
    assert (request["result"], request["erp_id"]) == ("synced", ord_)
    # the next hourly pull shows what we wrote: nothing changes, nothing is pushed back
    before = len(await history(tx, c["id"]))
    await apply_pulls(
        uow_on(tx),
        [
            pull(
                ord_,
                T0 + timedelta(hours=1),
                code=c["code"],
                name=name,
                mobile="13800138000",
                contact_name="王芳",
                wechat=wx,
            )
        ],
        deps,
    )
    assert len(await history(tx, c["id"])) == before
    assert len(await requests(tx, c["id"])) == 1
    # a duplicate result is absorbed
    await apply_push_results(uow_on(tx), [Completed(done, trigger("push_result"))], deps)
    assert (
        await tx.fetchval(
            "SELECT count(*) FROM sync_log WHERE customer_id = $1 AND sync_type = 'push'", c["id"]
        )
        == 1
    )


async def test_a_failed_push_is_marked_and_not_retried_until_something_changes(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    wx = f"wx_{unique()}"
    await apply_captures(
        uow_on(tx),
        [capture(wx, 1, T0, company_name=f"佛山{unique()}印务", real_name="赵磊", marked_as_important=True)],
        deps,
    )
    c = await row(tx, wechat_id=wx)
    failed = CustomerPushCompleted(
        customer_id=c["id"], version=1, result="failed", erp_id=None, error="客户名称重复", completed_at=T0
    )
    await apply_push_results(uow_on(tx), [Completed(failed, trigger("push_result"))], deps)
    marked = await row(tx, id=c["id"])
    assert (marked["erp_sync_status"], marked["erp_sync_error"]) == ("failed", "客户名称重复")
    assert len(await requests(tx, c["id"])) == 1
    await apply_captures(
        uow_on(tx),
        [
            capture(
                wx,
                2,
                T0 + timedelta(hours=1),
                company_name=f"佛山{unique()}印务",
                real_name="赵磊",
                marked_as_important=True,
            )
        ],
        deps,
    )
    retried = await requests(tx, c["id"])
    assert [r["payload"]["version"] for r in retried] == [1, 2]
    assert (await row(tx, id=c["id"]))["erp_sync_status"] == "pending"


async def test_an_older_capture_version_is_superseded(tx: asyncpg.Connection, deps: Deps) -> None:
    wx = f"wx_{unique()}"
    await apply_captures(uow_on(tx), [capture(wx, 2, T0, email="new@x.cn")], deps)
    await apply_captures(uow_on(tx), [capture(wx, 1, T0 - timedelta(hours=1), email="old@x.cn")], deps)
    c = await row(tx, wechat_id=wx)
    assert (c["email"], c["capture_version"]) == ("new@x.cn", 2)


async def test_a_contract_naming_the_company_makes_the_mandatory_rule_push_it(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    from common.events.transform import ContractStandardized

    wx, name = f"wx_{unique()}", f"常州{unique()}软包装有限公司"
    await apply_captures(
        uow_on(tx), [capture(wx, 1, T0, company_name=name, real_name="周杰", message_count=1)], deps
    )
    c = await row(tx, wechat_id=wx)
    assert (c["erp_sync_rule"], c["has_contract"]) == ("low_intent", False)
    line = ContractStandardized(
        contract_no=f"HT{unique()}",
        product_id="P1",
        version=1,
        party_a=f" {name} ",
        product_name="镀铬辊",
        contract_status="生产中",
        progress_percentage=0,
        current_process=None,
    )
    await link_contracts(uow_on(tx), [line], deps, trigger("contract"))
    linked = await row(tx, wechat_id=wx)
    assert (linked["has_contract"], linked["erp_sync_rule"], linked["erp_sync_status"]) == (
        True,
        "mandatory_has_contract",
        "pending",
    )
    assert [r["payload"]["action"] for r in await requests(tx, c["id"])] == ["create"]


async def test_a_customer_created_later_for_a_known_contract_company_is_linked_at_once(
    tx: asyncpg.Connection, deps: Deps
) -> None:
    name = f"瑞安{unique()}彩印有限公司"
    from common.events.transform import ContractStandardized

    line = ContractStandardized(
        contract_no=f"HT{unique()}",
        product_id="P1",
        version=1,
        party_a=name,
        product_name="镀铬辊",
        contract_status="生产中",
        progress_percentage=0,
        current_process=None,
    )
    await link_contracts(uow_on(tx), [line], deps, trigger("contract"))
    ord_ = erp_id()
    await apply_pulls(uow_on(tx), [pull(ord_, T0, name=name, contact_name="吴刚")], deps)
    c = await row(tx, erp_customer_id=ord_)
    assert (c["has_contract"], c["erp_sync_rule"]) == (True, "mandatory_has_contract")
    assert await requests(tx, c["id"]) == []  # everything it has came from the ERP


async def test_the_repository_round_trips_a_customer(tx: asyncpg.Connection, deps: Deps) -> None:
    wx = f"wx_{unique()}"
    await apply_captures(
        uow_on(tx),
        [
            capture(
                wx,
                1,
                T0,
                ("phone",),
                phone="13800138000",
                extracted_needs={"产品": ["网纹辊"]},
                intent_score=77,
                has_quote_request=True,
            )
        ],
        deps,
    )
    found = await PostgresCustomerRepository(tx).find("wechat_id", wx)
    assert found is not None
    again = await PostgresCustomerRepository(tx).find("id", found.id)
    assert again == found
    assert found.fields["extracted_needs"].value == {"产品": ["网纹辊"]}
    assert found.fields["intent_score"].value == 77
    assert found.fields["phone"].local is not None and found.fields["phone"].local.verified
