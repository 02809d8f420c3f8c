"""Whether and what to push: the decision, the ERP's last known values, outstanding requests."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rules.domain.customer import Customer, SyncState
from rules.domain.default_rules import DEFAULT_RULES
from rules.domain.fields import erp_values, push_names
from rules.domain.merge import MergeSettings, Observation, merge
from rules.domain.provenance import Slot
from rules.domain.rulebook import RuleBook
from rules.domain.sync import confirm_push, plan

BOOK = RuleBook(1, DEFAULT_RULES)
S = MergeSettings()
T0 = datetime(2025, 3, 1, tzinfo=UTC)
WECHAT = {
    "company_name": "汕头宏达彩印有限公司",
    "phone": "13800138000",
    "real_name": "张伟",
    "has_order": True,
}


def captured(values: dict[str, Any], verified: tuple[str, ...] = (), at: datetime = T0) -> dict[str, Slot]:
    return merge({}, Observation("local", at, values, verified=frozenset(verified)), S)[0]


def pulled(fields: dict[str, Slot], at: datetime, **record: Any) -> dict[str, Slot]:
    return merge(fields, Observation("erp", at, erp_values(88, None, record), complete=True), S)[0]


def test_a_new_customer_that_must_sync_is_created_with_all_its_values() -> None:
    p = plan(Customer("cu_1", "KH-000001", captured(WECHAT)), BOOK)
    assert (p.decision.action, p.emit, p.status) == ("CREATE", True, "pending")
    assert push_names(p.push) == {
        "name": "汕头宏达彩印有限公司",
        "mobile": "13800138000",
        "person_name": "张伟",
    }


def test_a_customer_that_came_from_the_erp_is_never_pushed_back() -> None:
    fields = pulled(
        {}, T0, name="汕头宏达彩印有限公司", mobile="13800138000", contact_name="张伟", email="a@b.cn"
    )
    fields = merge(fields, Observation("local", T0, {"has_order": True}), S)[0]
    p = plan(Customer("cu_1", "KH-000001", fields, erp_customer_id=88), BOOK)
    assert p.decision.action == "UPDATE"
    assert (p.push, p.emit, p.status) == ({}, False, "synced")


def test_an_unverified_local_core_value_is_not_pushed_into_an_existing_erp_record() -> None:
    fields = pulled(captured(WECHAT), T0 + timedelta(hours=2), name="汕头宏达彩印有限公司")
    p = plan(Customer("cu_1", "KH-000001", fields, erp_customer_id=88), BOOK)
    assert "phone" not in p.push  # the ERP has no mobile, ours is unverified
    fields = pulled(captured(WECHAT, ("phone",)), T0 + timedelta(hours=2), name="汕头宏达彩印有限公司")
    p = plan(Customer("cu_1", "KH-000001", fields, erp_customer_id=88), BOOK)
    assert p.push["phone"] == "13800138000"
    assert p.emit


def test_a_verified_local_phone_that_differs_from_the_erp_is_pushed() -> None:
    fields = pulled(captured(WECHAT, ("phone",)), T0 + timedelta(hours=2), name="汕头宏达彩印有限公司",
                    mobile="13900139000", contact_name="张伟")  # fmt: skip
    p = plan(Customer("cu_1", "KH-000001", fields, erp_customer_id=88), BOOK)
    assert p.push == {"phone": "13800138000"}


def test_an_outstanding_request_is_not_repeated() -> None:
    customer = Customer("cu_1", "KH-000001", captured(WECHAT))
    first = plan(customer, BOOK)
    waiting = replace(customer, sync=SyncState("pending", 1, 0, first.push))
    again = plan(waiting, BOOK)
    assert (again.emit, again.status) == (False, "pending")
    more = replace(waiting, fields=merge(waiting.fields, Observation("local", T0, {"email": "x@y.cn"}), S)[0])
    assert plan(more, BOOK).emit  # something new to say: a newer version supersedes


def test_after_a_failed_push_the_next_request_waits_for_a_change() -> None:
    customer = Customer("cu_1", "KH-000001", captured(WECHAT), sync=SyncState("failed", 1, 1, {}))
    assert plan(customer, BOOK, may_emit=False).status == "failed"
    assert not plan(customer, BOOK, may_emit=False).emit
    assert plan(customer, BOOK).emit


def test_a_confirmed_push_means_the_erp_holds_our_values_so_nothing_is_pushed_again() -> None:
    customer = Customer("cu_1", "KH-000001", captured(WECHAT))
    asked = plan(customer, BOOK).push
    fields, changes = confirm_push(customer, asked, 4242, T0 + timedelta(minutes=5), S)
    done = replace(customer, fields=fields, erp_customer_id=4242, sync=SyncState("synced", 1, 1, {}))
    p = plan(done, BOOK)
    assert (p.decision.action, p.push, p.emit, p.status) == ("UPDATE", {}, False, "synced")
    assert fields["erp_customer_code"].value == "KH-000001"
    assert {c.field for c in changes} == {"erp_customer_id", "erp_customer_code"}
    # and the next pull that shows the same record changes nothing visible
    again, changes = merge(fields, Observation("erp", T0 + timedelta(hours=1), {
        **erp_values(4242, "KH-000001", {"name": asked["company_name"], "mobile": asked["phone"],
                                         "contact_name": asked["real_name"]})}, complete=True), S)  # fmt: skip
    assert changes == []
    shown = {n: s.value for n, s in fields.items() if s.value is not None}
    assert {n: s.value for n, s in again.items() if s.value is not None} == shown


def test_a_skipped_customer_is_marked_skipped_and_sends_nothing() -> None:
    p = plan(Customer("cu_1", "KH-000001", captured({"phone": "13800138000"})), BOOK)
    assert (p.decision.action, p.emit, p.status) == ("SKIP", False, "skipped")


def test_a_contract_link_makes_the_mandatory_rule_apply() -> None:
    customer = Customer(
        "cu_1", "KH-000001", captured({"company_name": "汕头宏达彩印有限公司", "real_name": "张伟"})
    )
    assert plan(customer, BOOK).decision.action == "SKIP"
    linked = plan(replace(customer, contract_linked=True), BOOK)
    assert (linked.decision.rule, linked.emit) == ("mandatory_has_contract", True)
