"""Captures, pulls, push results and contract links through the real handlers on in-memory fakes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common import topics
from common.events.customers import CustomerPushCompleted, ErpCustomerPulled, WechatCustomerCaptured
from common.events.transform import ContractStandardized
from rules.domain.provenance import Slot
from rules.domain.record import ContractLink, Touch
from rules.service_layer.candidates import link_contracts
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Trigger, finish, new_customer
from rules.service_layer.push_results import Completed, apply_push_results
from tests.rules.fakes import DecisionLog, FakeSvcUnitOfWork, deps_for

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
SYNC_REQUESTED = topics.RULES_CUSTOMER_SYNC_REQUESTED


def capture(wechat_id: str, version: int, at: datetime = T0, **fields: Any) -> Captured:
    event = WechatCustomerCaptured(
        wechat_id=wechat_id, version=version, captured_at=at, client_id="t", fields=fields
    )
    return Captured(event, Trigger("wechat_capture", uuid.uuid4(), "corr-1"))


def pull(erp_id: int, at: datetime = T0, code: str | None = None, **fields: Any) -> Pulled:
    event = ErpCustomerPulled(erp_id=erp_id, code=code, content_hash="h", pulled_at=at, fields=fields)
    return Pulled(event, Trigger("erp_pull", uuid.uuid4(), "corr-2"))


def done(customer_id: str, version: int, result: str = "synced", **kw: Any) -> Completed:
    event = CustomerPushCompleted(
        customer_id=customer_id, version=version, result=result, completed_at=T0 + timedelta(minutes=5), **kw
    )
    return Completed(event, Trigger("push_result", uuid.uuid4(), "corr-3"))


def contract_line(party_a: str, version: int = 1, contract_no: str = "HT1") -> ContractStandardized:
    return ContractStandardized(
        contract_no=contract_no,
        product_id="P1",
        version=version,
        party_a=party_a,
        product_name="镀铬辊",
        contract_status="生产中",
        progress_percentage=0,
        current_process=None,
    )


async def test_a_capture_with_an_order_creates_a_customer_and_requests_a_create() -> None:
    uow, decisions = FakeSvcUnitOfWork(), DecisionLog()
    fields: dict[str, Any] = {
        "company_name": " 汕头　宏达彩印有限公司",
        "phone": "+86 138-0013-8000",
        "real_name": "张伟",
    }
    await apply_captures(uow, [capture("wx_1", 1, has_order=True, **fields)], deps_for(uow, decisions))
    c = uow.customers.one()
    assert (c.wechat_id, c.code, c.name_key) == ("wx_1", "KH-000001", "汕头宏达彩印有限公司")
    assert (c.sync_status, c.sync_action, c.sync_rule, c.sync_version) == (
        "pending",
        "create",
        "mandatory_has_order",
        1,
    )
    [payload] = uow.outbox.payloads(SYNC_REQUESTED)
    assert (payload.action, payload.version, payload.code, payload.erp_id) == ("create", 1, c.code, None)
    assert payload.fields == {
        "name": "汕头宏达彩印有限公司",
        "mobile": "13800138000",
        "person_name": "张伟",
        "weixinAcc": "wx_1",
    }
    [published] = uow.outbox.published
    assert (published.key, published.envelope.correlation_id) == (c.id, "corr-1")
    assert {h.change.field for h in uow.customers.history} >= {"company_name", "phone", "real_name"}
    assert uow.customers.requests[(c.id, 1)]["result"] is None
    assert [(d.action, d.emitted) for d in uow.customers.decisions] == [("CREATE", True)]
    assert [txid for _, txid in decisions.seen] == ["tx1"]
    assert {"name:汕头宏达彩印有限公司", "wechat:wx_1"} <= uow.customers.locked
    assert uow.committed == 1


async def test_only_the_newest_capture_of_a_wechat_id_applies_and_an_older_one_is_superseded() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    batch = [capture("wx_1", 1, email="a@x.cn"), capture("wx_1", 3, email="c@x.cn"), capture("wx_1", 2)]
    await apply_captures(uow, batch, deps)
    await apply_captures(uow, [capture("wx_1", 2, T0 - timedelta(hours=1), email="old@x.cn")], deps)
    c = uow.customers.one()
    assert (c.fields["email"].value, c.capture_version) == ("c@x.cn", 3)
    assert len(uow.customers.decisions) == 1  # the superseded one decided nothing
    assert uow.committed == 2


async def test_a_capture_of_a_known_company_without_wechat_joins_that_customer() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    await apply_pulls(uow, [pull(501, name="温州金峰印务有限公司", contact_name="李娜")], deps)
    await apply_captures(uow, [capture("wx_9", 1, company_name="温州金峰印务有限公司")], deps)
    c = uow.customers.one()
    assert (c.erp_customer_id, c.wechat_id) == (501, "wx_9")


async def test_a_pull_twice_changes_nothing_the_second_time_and_logs_both() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    record: dict[str, Any] = {"name": "温州金峰印务有限公司", "mobile": "13900139000", "contact_name": "李娜"}
    await apply_pulls(uow, [pull(7, **record)], deps)
    first = list(uow.customers.history)
    assert {h.change.change_type for h in first} == {"fill"}
    await apply_pulls(uow, [pull(7, T0 + timedelta(hours=1), **record)], deps)
    c = uow.customers.one()
    assert uow.customers.history == first
    assert (c.erp_customer_id, c.sync_status, c.touch.erp_last_pulled) == (
        7,
        "synced",
        T0 + timedelta(hours=1),
    )
    assert uow.outbox.published == []  # everything came from the ERP: nothing to push
    assert [(lg.kind, lg.result, lg.detail["changed"] == []) for lg in uow.customers.logs] == [
        ("pull", "success", False),
        ("pull", "success", True),
    ]
    assert uow.committed == 2


async def test_a_push_result_sets_the_erp_id_and_a_duplicate_is_absorbed() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    fields: dict[str, Any] = {
        "company_name": "昆山薄膜科技有限公司",
        "phone": "13800138000",
        "real_name": "王芳",
    }
    await apply_captures(uow, [capture("wx_2", 1, has_contract=True, **fields)], deps)
    customer_id = uow.customers.one().id
    await apply_push_results(uow, [done(customer_id, 1, erp_id=9001)], deps)
    await apply_push_results(uow, [done(customer_id, 1, erp_id=9001)], deps)
    c = uow.customers.one()
    assert (c.erp_customer_id, c.sync_status, c.result_version) == (9001, "synced", 1)
    assert c.touch.erp_last_pushed == T0 + timedelta(minutes=5)
    assert uow.customers.requests[(customer_id, 1)]["result"] == "synced"
    assert [(lg.kind, lg.result) for lg in uow.customers.logs] == [("push", "success")]
    assert len(uow.outbox.published) == 1  # the create; the echo is not pushed back
    assert uow.committed == 3


async def test_a_failed_push_keeps_the_error_and_is_not_retried_until_something_changes() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    await apply_captures(uow, [capture("wx_3", 1, company_name="佛山印务", marked_as_important=True)], deps)
    customer_id = uow.customers.one().id
    await apply_push_results(
        uow, [done(customer_id, 1, result="failed", erp_id=None, error="客户名称重复")], deps
    )
    c = uow.customers.one()
    assert (c.sync_status, c.touch.error) == ("failed", "客户名称重复")
    assert len(uow.outbox.published) == 1
    await apply_captures(uow, [capture("wx_3", 2, company_name="佛山新印务", marked_as_important=True)], deps)
    assert [p.version for p in uow.outbox.payloads(SYNC_REQUESTED)] == [1, 2]
    assert uow.customers.one().sync_status == "pending"


async def test_a_push_result_for_an_unknown_customer_is_ignored_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    uow = FakeSvcUnitOfWork()
    await apply_push_results(uow, [done("cu_missing", 1, erp_id=1)], deps_for(uow))
    assert uow.customers.rows == {}
    assert uow.committed == 1
    [record] = [r for r in caplog.records if "unknown customer" in r.message]
    assert record.customer_id == "cu_missing"  # type: ignore[attr-defined]


async def test_an_erp_id_already_held_by_another_customer_is_a_failure_not_a_merge() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    await apply_pulls(uow, [pull(42, name="甲公司", contact_name="甲")], deps)
    await apply_captures(uow, [capture("wx_4", 1, company_name="乙公司", has_order=True)], deps)
    captured = next(r for r in uow.customers.rows.values() if r.wechat_id == "wx_4")
    await apply_push_results(uow, [done(captured.id, 1, erp_id=42)], deps)
    after = uow.customers.rows[captured.id]
    assert (after.erp_customer_id, after.sync_status) == (None, "failed")
    assert after.touch.error is not None
    assert "ord 42" in after.touch.error


async def test_a_contract_naming_the_company_links_it_and_the_mandatory_rule_pushes_it() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    name = "常州软包装有限公司"
    await apply_captures(
        uow, [capture("wx_5", 1, company_name=name, real_name="周杰", message_count=1)], deps
    )
    assert (uow.customers.one().sync_rule, uow.outbox.published) == ("low_intent", [])
    trigger = Trigger("contract", None, "corr-4")
    await link_contracts(uow, [contract_line(f" {name} ", 2), contract_line("其他公司", 1)], deps, trigger)
    c = uow.customers.one()
    assert (c.contract_linked, c.sync_rule, c.sync_status) == (True, "mandatory_has_contract", "pending")
    assert [p.action for p in uow.outbox.payloads(SYNC_REQUESTED)] == ["create"]
    assert uow.candidates.names == {"常州软包装有限公司": " 常州软包装有限公司 "}
    assert [x.version for x in uow.candidates.links.values()] == [2]  # the newest version of the line
    assert uow.committed == 2


async def test_a_contract_without_a_party_a_links_nothing_but_still_commits() -> None:
    uow = FakeSvcUnitOfWork()
    await link_contracts(uow, [contract_line("")], deps_for(uow), Trigger("contract", None, "c"))
    assert (uow.candidates.names, uow.candidates.links, uow.committed) == ({}, {}, 1)


async def test_finish_links_a_customer_of_a_contract_company_and_records_the_decision() -> None:
    uow, decisions = FakeSvcUnitOfWork(), DecisionLog()
    deps = deps_for(uow, decisions)
    await uow.candidates.link([ContractLink("瑞安彩印", "HT1", "P1", 1)])
    customer = await new_customer(uow, erp_customer_id=77)
    customer = replace(customer, fields={"company_name": Slot("瑞安彩印", "erp", T0)})
    book = await deps.rulebook.get()
    outcome = await finish(uow, customer, [], Trigger("erp_pull", None, "c"), book, deps, Touch())
    c = uow.customers.one()
    assert (c.code, c.contract_linked, c.sync_rule, outcome.emit) == (
        "KH-000001",
        True,
        "mandatory_has_contract",
        False,
    )
    assert [d.rule for d, _ in decisions.seen] == ["mandatory_has_contract"]
    assert uow.committed == 0  # finish is a step: the handler commits
