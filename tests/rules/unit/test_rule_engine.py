"""The rule engine: seed 004's rules as data, first match by priority, gates, and the Q2 example."""

from typing import Any

import pytest

from rules.domain.default_rules import DEFAULT_RULES
from rules.domain.facts import facts_of
from rules.domain.quality import score
from rules.domain.rule_config import RuleError
from rules.domain.rule_parsing import build_book, parse_rule, patched, propose, rule_dict
from rules.domain.rulebook import Decision, RuleBook, evaluate, render
from rules.service_layer.admin import evaluate_payload

BOOK = RuleBook(1, DEFAULT_RULES)
SEED_Q2 = {"phone": "13800138000", "company_name": "测试公司", "intent_score": 50}
GOOD = {
    "phone": "13800138000",
    "company_name": "汕头宏达彩印有限公司",
    "intent_score": 50,
    "message_count": 20,
}


def decide(customer: dict[str, Any], book: RuleBook = BOOK) -> Decision:
    return evaluate(facts_of(customer, score(customer)), book)


def test_seed_q2_example_is_skipped_for_too_few_messages() -> None:
    body = evaluate_payload(SEED_Q2, BOOK)
    assert body["action"] == "SKIP"
    assert body["rule"] == "low_engagement"
    assert body["reason"] == "互动次数不足（0条消息）"
    assert body["quality"]["score"] == 45
    assert [f["points"] for f in body["quality"]["factors"]] == [15, 20, 0, 10]


@pytest.mark.parametrize(
    ("flag", "rule", "reason"),
    [
        ("has_order", "mandatory_has_order", "客户已下单，必须同步到ERP"),
        ("has_contract", "mandatory_has_contract", "客户已签合同，必须同步到ERP"),
        ("has_payment", "mandatory_has_payment", "客户已付款，必须同步到ERP"),
        ("marked_as_important", "mandatory_marked_important", "销售标记为重要客户"),
    ],
)
def test_mandatory_rules_create_whatever_the_quality(flag: str, rule: str, reason: str) -> None:
    d = decide({"company_name": "某某", flag: True})
    assert (d.action, d.rule, d.reason, d.confidence) == ("CREATE", rule, reason, 1.0)


def test_an_erp_id_turns_create_into_update() -> None:
    assert decide({"company_name": "某某", "has_order": True, "erp_customer_id": 77}).action == "UPDATE"


def test_high_quality_syncs_at_80() -> None:
    customer = {**GOOD, "phone_verified": True, "company_name_verified": True, "intent_score": 80}
    d = decide(customer)
    assert (d.action, d.rule) == ("CREATE", "high_quality_verified")
    assert d.reason == "高质量客户（80分），自动同步"
    assert d.confidence == 0.8


def test_high_quality_license_applies_once_the_first_high_rule_is_off() -> None:
    book = propose(BOOK, {"high_quality_verified": {"enabled": False}}, [], {})
    customer = {**GOOD, "phone_verified": True, "business_license_verified": True, "intent_score": 80}
    assert decide(customer, book).rule == "high_quality_license"


def test_medium_phone_and_quote_needs_the_quality_gate() -> None:
    d = decide({**GOOD, "has_quote_request": True})  # 15 + 20 + 10 = 45 < 60
    assert (d.action, d.rule, d.gates) == ("SKIP", "medium_phone_quote", ("min_score_for_sync",))
    assert "低于最低同步分 60 分" in d.reason
    d = decide(
        {**GOOD, "has_quote_request": True, "phone_verified": True, "intent_score": 60}
    )  # 30 + 20 + 15
    assert (d.action, d.rule) == ("CREATE", "medium_phone_quote")


def test_medium_company_and_licence() -> None:
    d = decide({**GOOD, "business_license_path": "/l.jpg", "phone_verified": True})
    assert (d.action, d.rule, d.confidence) == ("CREATE", "medium_company_license", 0.8)


def test_medium_deep_engagement_explains_itself() -> None:
    d = decide({**GOOD, "phone_verified": True, "conversation_days": 9, "message_count": 66})
    assert (d.action, d.rule, d.reason) == (
        "CREATE",
        "medium_deep_engagement",
        "持续深度沟通（9天，66条消息）",
    )


@pytest.mark.parametrize(
    ("customer", "rule", "reason"),
    [
        ({"intent_score": 90, "message_count": 9}, "low_no_info", "信息不足（无手机号、公司名、真实姓名）"),
        ({"real_name": "张伟", "intent_score": 12, "message_count": 9}, "low_intent", "商业意向过低（12分）"),
        (
            {"real_name": "张伟", "intent_score": 40, "message_count": 2},
            "low_engagement",
            "互动次数不足（2条消息）",
        ),
        ({**GOOD, "marked_as_invalid": True}, "low_marked_invalid", "已标记为无效客户"),
    ],
)
def test_low_quality_rules_skip(customer: dict[str, Any], rule: str, reason: str) -> None:
    d = decide(customer)
    assert (d.action, d.rule, d.reason) == ("SKIP", rule, reason)


def test_no_rule_matched_is_the_default_skip() -> None:
    assert decide(GOOD) == Decision("SKIP", "default", "未匹配任何规则", 0.0)


def test_verify_before_sync_holds_a_push_with_a_bad_phone() -> None:
    d = decide({"company_name": "某某公司", "phone": "0755-8888888", "has_order": True})
    assert (d.action, d.gates) == ("SKIP", ("verify_before_sync",))
    assert "手机号" in d.reason
    book = propose(BOOK, {}, [], {"verify_before_sync": False})
    assert (
        decide({"company_name": "某某公司", "phone": "0755-8888888", "has_order": True}, book).action
        == "CREATE"
    )


def test_a_threshold_from_the_config_moves_a_decision() -> None:
    customer = {**GOOD, "phone_verified": True, "company_name_verified": True, "intent_score": 60}  # 75
    assert decide(customer).rule != "high_quality_verified"
    assert decide(customer, propose(BOOK, {}, [], {"min_quality_score": 75})).rule == "high_quality_verified"


def test_priority_not_list_order_decides_and_ties_keep_their_position() -> None:
    urgent = parse_rule(
        {
            "name": "vip_city",
            "priority": 200,
            "conditions": [{"fact": "address", "op": "present"}],
            "action": "skip",
            "reason": "暂缓",
        }
    )
    book = RuleBook(2, (*DEFAULT_RULES, urgent))
    assert decide({"address": "汕头", "has_order": True}, book).rule == "vip_city"
    assert decide({"has_order": True, "has_payment": True}).rule == "mandatory_has_order"


def test_a_disabled_rule_is_skipped() -> None:
    book = propose(BOOK, {"low_engagement": {"enabled": False}}, [], {})
    assert decide(SEED_Q2, book).rule == "default"


def test_rule_rows_round_trip_through_their_dict_form() -> None:
    assert tuple(parse_rule(rule_dict(r)) for r in DEFAULT_RULES) == DEFAULT_RULES


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "Bad Name", "action": "skip", "reason": "r"},
        {"name": "x", "action": "push", "reason": "r"},
        {"name": "x", "action": "skip", "reason": ""},
        {
            "name": "x",
            "action": "skip",
            "reason": "r",
            "conditions": [{"fact": "shoe_size", "op": "present"}],
        },
        {
            "name": "x",
            "action": "skip",
            "reason": "r",
            "conditions": [{"fact": "phone", "op": ">=", "value": 3}],
        },
        {"name": "x", "action": "skip", "reason": "r", "conditions": [{"fact": "intent_score", "op": "<"}]},
        {"name": "x", "action": "skip", "reason": "r", "conditions": [{"fact": "phone", "op": "is_true"}]},
        {
            "name": "x",
            "action": "skip",
            "reason": "r",
            "conditions": [{"fact": "intent_score", "op": ">=", "config": "nope"}],
        },
        {"name": "x", "action": "sync", "reason": "r", "confidence": 1.5},
        {"name": "x", "action": "sync", "reason": "r", "priority": "high"},
        {"name": "x", "action": "sync", "reason": "r", "conditions": "has_order"},
        {"name": "x", "action": "sync", "reason": "r\x00"},
        {
            "name": "x",
            "action": "skip",
            "reason": "r",
            "conditions": [{"fact": "phone", "op": "==", "value": [1]}],
        },
    ],
)
def test_malformed_rules_are_refused_with_a_reason(raw: dict[str, Any]) -> None:
    with pytest.raises(RuleError):
        parse_rule(raw)


def test_patches_cannot_rename_a_rule() -> None:
    with pytest.raises(RuleError):
        patched(DEFAULT_RULES[0], {"name": "other"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("min_quality_score", 101),
        ("min_quality_score", True),
        ("verify_before_sync", 1),
        ("nope", 3),
        ("min_quality_score", 6.5),
    ],
)
def test_bad_config_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(RuleError):
        propose(BOOK, {}, [], {key: value})


def test_a_stored_rule_that_does_not_parse_is_left_out_and_reported() -> None:
    rows = [rule_dict(r) for r in DEFAULT_RULES] + [{"name": "broken", "action": "nope", "reason": "r"}]
    book, problems = build_book(
        3, rows, {"min_quality_score": 70, "bogus": 1}, {"email": "local_wins", "x": "y"}
    )
    assert [r.name for r in book.rules] == [r.name for r in DEFAULT_RULES]
    assert book.config["min_quality_score"] == 70
    assert book.policy["email"] == "local_wins"
    assert len(problems) == 3


def test_reason_templates_show_whole_numbers_plainly() -> None:
    assert render(
        "{intent_score}分 {quality_score} {unknown}", {"intent_score": 12.0, "quality_score": 45}
    ) == ("12分 45 {unknown}")
