"""Rule administration and the operators' and sales staff's queries through the real handlers on fakes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from common.events.customers import WechatCustomerCaptured
from rules.domain.rule_config import RuleError
from rules.domain.search import Search
from rules.service_layer import admin, customer_queries
from rules.service_layer.customers import Captured, apply_captures
from rules.service_layer.decisions import Trigger
from rules.service_layer.rulebook_cache import RuleBookCache
from tests.rules.fakes import FakeCustomerReads, FakeRuleSource, FakeSvcUnitOfWork, deps_for

NEW_RULE: dict[str, Any] = {
    "name": "vip_region",
    "priority": 90,
    "conditions": [{"fact": "intent_score", "op": ">=", "value": 90}],
    "action": "sync",
    "reason": "高意向",
}


async def captured(uow: FakeSvcUnitOfWork, wechat_id: str, **fields: Any) -> str:
    event = WechatCustomerCaptured(
        wechat_id=wechat_id, version=1, captured_at=datetime.now(UTC), client_id="t", fields=fields
    )
    await apply_captures(uow, [Captured(event, Trigger("wechat_capture", uuid.uuid4(), "t"))], deps_for(uow))
    return next(r.id for r in uow.customers.rows.values() if r.wechat_id == wechat_id)


async def test_a_new_rule_is_stored_and_audited_and_a_second_one_of_that_name_conflicts() -> None:
    uow = FakeSvcUnitOfWork()
    new = await admin.create_rule(uow.factory(), NEW_RULE, "ops")
    assert uow.rulebook.rules["vip_region"]["priority"] == 90
    assert [(a["entity"], a["key"], a["old"], a["new"]) for a in uow.rulebook.audits] == [
        ("rule", "vip_region", None, new)
    ]
    with pytest.raises(admin.ConflictError):
        await admin.create_rule(uow.factory(), NEW_RULE, "ops")
    assert (len(uow.rulebook.audits), uow.committed) == (1, 1)


async def test_a_rule_patch_is_audited_once_and_a_patch_that_changes_nothing_is_not() -> None:
    uow = FakeSvcUnitOfWork()
    new = await admin.update_rule(uow.factory(), "low_intent", {"enabled": False}, "ops")
    assert (new["enabled"], uow.rulebook.rules["low_intent"]["enabled"]) == (False, False)
    await admin.update_rule(uow.factory(), "low_intent", {"enabled": False}, "ops")
    [audit] = uow.rulebook.audits
    assert (audit["old"]["enabled"], audit["new"]["enabled"], audit["changed_by"]) == (True, False, "ops")
    with pytest.raises(admin.NotFoundError):
        await admin.update_rule(uow.factory(), "no_such_rule", {"enabled": False}, "ops")
    with pytest.raises(admin.NotFoundError):
        await admin.update_rule(uow.factory(), "bad\x00name", {}, "ops")


async def test_a_bad_rule_patch_is_refused_and_nothing_is_written() -> None:
    uow = FakeSvcUnitOfWork()
    with pytest.raises(RuleError):
        await admin.update_rule(uow.factory(), "low_intent", {"updated_by": "x"}, "ops")
    assert (uow.rulebook.audits, uow.committed) == ([], 0)


async def test_config_is_checked_stored_with_its_previous_value_and_audited_only_when_it_changes() -> None:
    uow = FakeSvcUnitOfWork()
    first = await admin.set_config(uow.factory(), "min_quality_score", 70, "ops")
    again = await admin.set_config(uow.factory(), "min_quality_score", 70, "ops")
    assert (first["previous"], again["previous"], uow.rulebook.config) == (
        None,
        70,
        {"min_quality_score": 70},
    )
    assert len(uow.rulebook.audits) == 1
    with pytest.raises(admin.NotFoundError):
        await admin.set_config(uow.factory(), "no_such_key", 1, "ops")
    with pytest.raises(RuleError):
        await admin.set_config(uow.factory(), "min_quality_score", "high", "ops")


async def test_field_policies_refuse_unknown_fields_strategies_and_moving_erp_identifiers() -> None:
    uow = FakeSvcUnitOfWork()
    answer = await admin.set_policy(uow.factory(), "address", "erp_always", "ops")
    assert (answer["previous"], uow.rulebook.policies) == (None, {"address": "erp_always"})
    with pytest.raises(admin.NotFoundError):
        await admin.set_policy(uow.factory(), "no_such_field", "erp_always", "ops")
    with pytest.raises(RuleError):
        await admin.set_policy(uow.factory(), "address", "coin_flip", "ops")
    with pytest.raises(RuleError):
        await admin.set_policy(uow.factory(), "erp_customer_id", "local_always", "ops")
    assert (len(uow.rulebook.audits), uow.committed) == (1, 1)


async def test_a_dry_run_counts_who_would_flip_and_saves_nothing() -> None:
    uow = FakeSvcUnitOfWork()
    pushed = await captured(uow, "wx_1", company_name="甲公司", has_order=True)
    await captured(uow, "wx_2", company_name="乙公司", message_count=1)
    reads, cache = FakeCustomerReads(uow), RuleBookCache(FakeRuleSource(uow.rulebook))
    rules_before, commits = dict(uow.rulebook.rules), uow.committed
    answer = await admin.dry_run(reads, cache, {"mandatory_has_order": {"enabled": False}}, [], {}, 5)
    assert (answer["evaluated"], answer["changed"], answer["to_hold"], answer["to_push"]) == (2, 1, 1, 0)
    [flip] = answer["sample"]
    assert (flip["customer_id"], flip["before"]["rule"]) == (pushed, "mandatory_has_order")
    assert (uow.rulebook.rules, uow.committed) == (rules_before, commits)


async def test_the_audit_trail_is_newest_first_and_pages_with_before() -> None:
    uow = FakeSvcUnitOfWork()
    for value in (61, 62, 63):
        await admin.set_config(uow.factory(), "min_score_for_sync", value, "ops")
    reads = FakeCustomerReads(uow)
    assert [a["new"] for a in await admin.audit_trail(reads, 2, None)] == [63, 62]
    assert [a["new"] for a in await admin.audit_trail(reads, 2, 2)] == [61]


async def test_evaluate_answers_the_decision_and_the_quality_behind_it() -> None:
    uow = FakeSvcUnitOfWork()
    book = await RuleBookCache(FakeRuleSource(uow.rulebook)).get()
    answer = admin.evaluate_payload({"phone": "+86 138 0013 8000", "has_order": True}, book)
    assert (answer["action"], answer["rule"], answer["gates"]) == (
        "SKIP",
        "mandatory_has_order",
        ["verify_before_sync"],
    )
    assert answer["quality"]["factors"][0] == {
        "factor": "phone",
        "points": 15,
        "max": 30,
        "reason": "有手机号但未验证",
    }
    named = admin.evaluate_payload({"phone": "13800138000", "real_name": "张伟", "has_order": True}, book)
    assert (named["action"], named["rulebook_version"]) == ("CREATE", 1)
    listed = admin.book_json(book, [])
    assert listed["rules"][0]["name"] == "mandatory_has_order"


async def test_a_customer_detail_shows_values_provenance_and_what_is_held() -> None:
    uow = FakeSvcUnitOfWork()
    customer_id = await captured(uow, "wx_1", company_name="甲公司", phone="13800138000")
    detail = await customer_queries.customer_detail(FakeCustomerReads(uow), customer_id)
    assert detail["fields"]["phone"] == "13800138000"
    assert detail["provenance"]["phone"]["source"] == "wechat"
    assert detail["pending"] == {}
    assert [d["trigger"] for d in detail["decisions"]] == ["wechat_capture"]
    with pytest.raises(admin.NotFoundError):
        await customer_queries.customer_detail(FakeCustomerReads(uow), "cu_missing")
    with pytest.raises(admin.NotFoundError):
        await customer_queries.customer_detail(FakeCustomerReads(uow), "cu\x00x")


async def test_a_customer_history_pages_with_next_before() -> None:
    uow = FakeSvcUnitOfWork()
    customer_id = await captured(uow, "wx_1", company_name="甲公司", phone="13800138000", real_name="张伟")
    reads = FakeCustomerReads(uow)
    page = await customer_queries.customer_history(reads, customer_id, 2, None)
    assert len(page["changes"]) == 2
    assert page["next_before"] == page["changes"][-1]["id"]
    rest = await customer_queries.customer_history(reads, customer_id, 10, page["next_before"])
    assert rest["next_before"] is None
    assert len(page["changes"]) + len(rest["changes"]) == len(uow.customers.history)
    with pytest.raises(admin.NotFoundError):
        await customer_queries.customer_history(reads, "cu_missing", 10, None)


async def test_statistics_are_totalled_by_direction_and_result() -> None:
    reads = FakeCustomerReads(FakeSvcUnitOfWork())
    reads.statistics_rows = [
        {"date": "2025-03-02", "direction": "local_to_erp", "result": "success", "count": 3},
        {"date": "2025-03-01", "direction": "local_to_erp", "result": "success", "count": 2},
        {"date": "2025-03-01", "direction": "erp_to_local", "result": "failed", "count": 1},
    ]
    reads.failures_last_hour = 1
    answer = await customer_queries.sync_statistics(reads, 7)
    assert answer["totals"] == {"local_to_erp": {"success": 5}, "erp_to_local": {"failed": 1}}
    assert (answer["days"], answer["failures_last_hour"]) == (7, 1)


async def test_pending_sync_search_and_candidates_answer_pages() -> None:
    uow = FakeSvcUnitOfWork()
    await captured(uow, "wx_1", company_name="甲公司", has_order=True)
    await captured(uow, "wx_2", company_name="乙公司", message_count=1)
    await uow.candidates.upsert({"丙公司": "丙公司"})
    reads = FakeCustomerReads(uow)
    reads.pending_rows = [{"id": "a"}, {"id": "b"}]
    assert await customer_queries.pending_sync(reads, 1, 1) == {"total": 2, "customers": [{"id": "b"}]}
    found = await customer_queries.search(reads, Search(status="pending", limit=10))
    assert (found["total"], found["limit"], found["offset"]) == (1, 10, 0)
    listed = await customer_queries.candidates(reads, 10, 0)
    assert listed == {"candidates": [{"company_name": "丙公司", "contracts": []}]}
