"""Sales staff's decisions: a held value settled by hand, a customer entered by hand. Same strategies, same
history, same sync plan as the automatic paths."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.domain.customer import Customer
from rules.domain.default_rules import DEFAULT_RULES
from rules.domain.fields import erp_values
from rules.domain.manual import ManualInputError, check_entry, entry_observation, resolve
from rules.domain.merge import MergeSettings, Observation, merge
from rules.domain.provenance import Slot
from rules.domain.rulebook import RuleBook
from rules.domain.sync import confirm_push, plan

BOOK = RuleBook(1, DEFAULT_RULES)
S = MergeSettings(erp_window=timedelta(hours=1))  # the pull interval: changes inside it cannot be ranked
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
OURS = {
    "company_name": "汕头宏达彩印有限公司",
    "phone": "13800138000",
    "real_name": "张伟",
    "address": "汕头市龙湖区长平路1号",
    "has_order": True,
}
ERP = {"name": "汕头宏达彩印有限公司", "mobile": "13800138000", "contact_name": "张伟"}


def held() -> Customer:
    """In the ERP with our values; then the ERP shows another address within one pull interval of ours."""
    fields = merge({}, Observation("local", T0, OURS), S)[0]
    fields = confirm_push(Customer("cu_1", "KH-000001", fields), {**OURS}, 88, T0, S)[0]
    record = {**ERP, "address": "汕头市金平区金砂路9号"}
    fields = merge(
        fields, Observation("erp", T0 + timedelta(minutes=20), erp_values(88, None, record), complete=True), S
    )[0]
    return Customer("cu_1", "KH-000001", fields, erp_customer_id=88)


def decide(customer: Customer, choice: Any = None, value: Any = None, name: str = "address") -> Customer:
    at = T0 + timedelta(minutes=30)
    done = resolve(name, customer.fields.get(name, Slot()), choice, value, at, S, "sales-1")
    return Customer(customer.id, customer.code, {**customer.fields, name: done.slot}, erp_customer_id=88)


def test_a_value_held_for_a_manual_decision_is_not_pushed_meanwhile() -> None:
    customer = held()
    slot = customer.fields["address"]
    assert (slot.value, slot.pending.value if slot.pending else None) == (
        "汕头市龙湖区长平路1号",
        "汕头市金平区金砂路9号",
    )
    p = plan(customer, BOOK)
    assert p.decision.rule == "mandatory_has_order"
    assert "address" not in p.push  # pushing ours would overwrite the ERP's change and decide it silently
    assert (p.emit, p.status) == (False, "synced")


def test_choosing_the_erps_held_value_makes_both_sides_agree_and_sends_nothing() -> None:
    customer = decide(held(), "pending")
    slot = customer.fields["address"]
    assert (slot.value, slot.source, slot.pending) == ("汕头市金平区金砂路9号", "erp", None)
    assert plan(customer, BOOK).push == {}


def test_keeping_our_value_makes_it_the_later_one_and_pushes_it() -> None:
    customer = decide(held(), "current")
    slot = customer.fields["address"]
    assert (slot.value, slot.source, slot.pending) == ("汕头市龙湖区长平路1号", "manual", None)
    p = plan(customer, BOOK)
    assert (p.push, p.emit) == ({"address": "汕头市龙湖区长平路1号"}, True)


def test_an_entered_value_is_cleaned_wins_and_is_pushed() -> None:
    customer = decide(held(), value="  汕头市龙湖区长平路1号　3楼 ")
    assert customer.fields["address"].value == "汕头市龙湖区长平路1号 3楼"
    assert plan(customer, BOOK).push == {"address": "汕头市龙湖区长平路1号 3楼"}


def test_the_decision_is_audited_as_a_manual_merge_even_when_the_shown_value_stays() -> None:
    customer = held()
    done = resolve(
        "address", customer.fields["address"], "current", None, T0 + timedelta(minutes=30), S, "sales-1"
    )
    c = done.change
    assert (c.field, c.change_type, c.source, c.old, c.new) == (
        "address",
        "merge",
        "manual",
        "汕头市龙湖区长平路1号",
        "汕头市龙湖区长平路1号",
    )
    assert "sales-1" in c.reason


def test_a_later_erp_change_is_judged_against_the_decision_as_any_other() -> None:
    customer = decide(held(), "current")
    record = {**ERP, "address": "汕头市澄海区1号"}
    at = T0 + timedelta(minutes=40)  # inside the pull interval after the decision: cannot be ranked
    fields = merge(customer.fields, Observation("erp", at, erp_values(88, None, record), complete=True), S)[0]
    slot = fields["address"]
    assert (slot.value, slot.pending.value if slot.pending else None) == (
        "汕头市龙湖区长平路1号",
        "汕头市澄海区1号",
    )


def test_the_decision_wins_even_when_the_erps_clock_is_ahead() -> None:
    customer = held()
    early = T0  # before the pull that showed the ERP's value
    done = resolve("address", customer.fields["address"], "current", None, early, S, "sales-1")
    assert (done.slot.value, done.slot.pending) == ("汕头市龙湖区长平路1号", None)


@pytest.mark.parametrize(
    ("name", "choice", "value", "code"),
    [
        ("phone", "pending", None, "nothing_pending"),
        ("no_such_field", "pending", None, "invalid_field"),
        ("address", None, "   ", "invalid_value"),
        ("address", None, "None", "invalid_value"),
    ],
)
def test_refusals_have_stable_codes(name: str, choice: Any, value: Any, code: str) -> None:
    customer = held()
    with pytest.raises(ManualInputError) as refused:
        resolve(name, customer.fields.get(name, Slot()), choice, value, T0, S, "sales-1")
    assert refused.value.code == code
    assert refused.value.status == (409 if code == "nothing_pending" else 422)


def test_an_entry_is_cleaned_like_every_source_full_width_digits_included() -> None:
    entry = check_entry(
        {
            "company_name": " 汕头　宏达彩印有限公司 ",
            "real_name": "张伟",
            "phone": "＋８６ １３８-００１３-８０００",
        },
        True,
    )
    assert entry == {"company_name": "汕头宏达彩印有限公司", "real_name": "张伟", "phone": "13800138000"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"phone": None}, "missing_phone"),
        ({"company_name": "  "}, "missing_company_name"),
        ({"real_name": "null"}, "missing_real_name"),
        ({"phone": "１３８"}, "invalid_phone"),  # full-width, and no mobile after cleaning
        ({"phone": "ＡＢＣＤＥＦＧＨＩＪＫ"}, "invalid_phone"),
        ({"company_name": "（）——"}, "invalid_company_name"),
        ({"email": "ａｂｃ"}, "invalid_email"),
    ],
)
def test_an_entry_is_refused_with_a_stable_code(change: dict[str, Any], code: str) -> None:
    values = {"company_name": "汕头宏达彩印有限公司", "real_name": "张伟", "phone": "13800138000", **change}
    with pytest.raises(ManualInputError) as refused:
        check_entry(values, True)
    assert refused.value.code == code


def test_an_entry_merges_by_the_same_policy_as_a_capture() -> None:
    """An entered, unverified phone does not replace the ERP's; a verified one does (erp_unless_verified)."""
    fields = merge({}, Observation("erp", T0, erp_values(88, None, ERP), complete=True), S)[0]
    entry = check_entry({**OURS, "phone": "13900139000"}, True)
    plain = merge(fields, entry_observation(entry, frozenset(), T0 + timedelta(hours=2)), S)
    assert (plain[0]["phone"].value, plain[1][0].change_type) == ("13800138000", "conflict")
    verified = merge(fields, entry_observation(entry, frozenset({"phone"}), T0 + timedelta(hours=2)), S)
    assert (verified[0]["phone"].value, verified[0]["phone"].source) == ("13900139000", "manual")
    with pytest.raises(ManualInputError) as refused:
        entry_observation({"phone": "13900139000"}, frozenset({"email"}), T0)
    assert refused.value.code == "invalid_verified"
