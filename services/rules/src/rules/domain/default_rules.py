"""Seed 004's rules as data (migration 0002 seeds the same rows; a test keeps the two equal). Pure."""

from __future__ import annotations

from rules.domain.rulebook import Condition, Rule


def _true(fact: str) -> Condition:
    return Condition(fact, "is_true")


def _mandatory(position: int, name: str, fact: str, reason: str) -> Rule:
    return Rule(
        name, 100, (_true(fact),), "sync", reason, confidence=1.0, gate_exempt=True, position=position
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    _mandatory(1, "mandatory_has_order", "has_order", "客户已下单，必须同步到ERP"),
    _mandatory(2, "mandatory_has_contract", "has_contract", "客户已签合同，必须同步到ERP"),
    _mandatory(3, "mandatory_has_payment", "has_payment", "客户已付款，必须同步到ERP"),
    _mandatory(4, "mandatory_marked_important", "marked_as_important", "销售标记为重要客户"),
    Rule(
        "high_quality_verified",
        80,
        (Condition("quality_score", ">=", config="min_quality_score"),),
        "sync",
        "高质量客户（{quality_score}分），自动同步",
        position=5,
    ),
    Rule(
        "high_quality_license",
        75,
        (_true("business_license_verified"), Condition("quality_score", ">=", config="min_quality_score")),
        "sync",
        "高质量客户（{quality_score}分，营业执照已验证），自动同步",
        position=6,
    ),
    Rule(
        "medium_phone_quote",
        50,
        (Condition("phone", "present"), _true("has_quote_request")),
        "sync",
        "有手机号且明确询价",
        confidence=0.75,
        position=7,
    ),
    Rule(
        "medium_company_license",
        50,
        (Condition("company_name", "present"), Condition("business_license_path", "present")),
        "sync",
        "公司信息完整（有公司名和营业执照）",
        confidence=0.8,
        position=8,
    ),
    Rule(
        "medium_deep_engagement",
        45,
        (Condition("conversation_days", ">=", 7), Condition("message_count", ">=", 50)),
        "sync",
        "持续深度沟通（{conversation_days}天，{message_count}条消息）",
        confidence=0.7,
        position=9,
    ),
    Rule(
        "low_no_info",
        0,
        (Condition("phone", "absent"), Condition("company_name", "absent"), Condition("real_name", "absent")),
        "skip",
        "信息不足（无手机号、公司名、真实姓名）",
        position=10,
    ),
    Rule(
        "low_intent",
        0,
        (Condition("intent_score", "<", 30),),
        "skip",
        "商业意向过低（{intent_score}分）",
        position=11,
    ),
    Rule(
        "low_engagement",
        0,
        (Condition("message_count", "<", 5),),
        "skip",
        "互动次数不足（{message_count}条消息）",
        position=12,
    ),
    Rule("low_marked_invalid", 0, (_true("marked_as_invalid"),), "skip", "已标记为无效客户", position=13),
)
