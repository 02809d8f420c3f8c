"""Sync rules as data: a rule is a list of conditions over named facts, checked from the highest priority
down; the first match wins (DOMAIN.md §5). Thresholds come from the config. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rules.domain.facts import COUNTS, Facts
from rules.domain.fields import DEFAULT_POLICY, Strategy
from rules.domain.formats import is_email, is_mobile
from rules.domain.rule_config import CONFIG

Action = Literal["CREATE", "UPDATE", "SKIP"]
NUMERIC_OPS = (">=", ">", "<=", "<")
OPS = ("is_true", "is_false", "present", "absent", *NUMERIC_OPS, "==", "!=")
NUMERIC_FACTS = (*COUNTS, "quality_score")


@dataclass(frozen=True, slots=True)
class Condition:
    fact: str
    op: str
    value: Any = None
    config: str | None = None  # compare with this config value instead of `value`

    def holds(self, facts: Facts, config: Mapping[str, Any]) -> bool:
        actual = facts.get(self.fact)
        if self.op in ("is_true", "is_false"):
            return bool(actual) is (self.op == "is_true")
        if self.op in ("present", "absent"):
            return (actual is not None) is (self.op == "present")
        expected = config[self.config] if self.config else self.value
        if self.op in NUMERIC_OPS:
            left, right = float(actual or 0), float(expected)
            return {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}[self.op]
        return (actual == expected) is (self.op == "==")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact, "op": self.op}
        if self.config:
            out["config"] = self.config
        elif self.op not in ("is_true", "is_false", "present", "absent"):
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    priority: int
    conditions: tuple[Condition, ...]
    action: Literal["sync", "skip"]
    reason: str  # template: {fact} is replaced by the fact's value
    enabled: bool = True
    confidence: float | None = None  # None: quality score / 100
    gate_exempt: bool = False  # mandatory rules skip the min_score_for_sync gate
    position: int = 0  # order among equal priorities
    description: str = ""


@dataclass(frozen=True, slots=True)
class RuleBook:
    version: int
    rules: tuple[Rule, ...]
    config: Mapping[str, Any] = field(default_factory=lambda: {k: s.default for k, s in CONFIG.items()})
    policy: Mapping[str, Strategy] = field(default_factory=lambda: dict(DEFAULT_POLICY))

    def active(self) -> list[Rule]:
        return sorted((r for r in self.rules if r.enabled), key=lambda r: (-r.priority, r.position, r.name))


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    rule: str
    reason: str
    confidence: float
    gates: tuple[str, ...] = ()

    @property
    def pushes(self) -> bool:
        return self.action != "SKIP"


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def render(template: str, facts: Facts) -> str:
    def value(m: re.Match[str]) -> str:
        v = facts.get(m.group(1), m.group(0))
        return f"{v:.0f}" if isinstance(v, float) and v == int(v) else str(v)

    return _PLACEHOLDER.sub(value, template)


def sync_problems(facts: Facts) -> list[str]:
    """verify_before_sync: what the ERP would reject or what we must not send."""
    problems = []
    if facts.get("company_name") is None and facts.get("real_name") is None:
        problems.append("缺少客户名称（公司名或联系人）")
    if facts.get("phone") is not None and not is_mobile(str(facts["phone"])):
        problems.append("手机号不是有效的 11 位手机号")
    if facts.get("email") is not None and not is_email(str(facts["email"])):
        problems.append("邮箱格式无效")
    return problems


def evaluate(facts: Facts, book: RuleBook) -> Decision:
    for rule in book.active():
        if all(c.holds(facts, book.config) for c in rule.conditions):
            return _decide(rule, facts, book)
    return Decision("SKIP", "default", "未匹配任何规则", 0.0)


def _decide(rule: Rule, facts: Facts, book: RuleBook) -> Decision:
    reason = render(rule.reason, facts)
    quality = int(facts.get("quality_score") or 0)
    if rule.action == "skip":
        return Decision("SKIP", rule.name, reason, 0.0)
    confidence = rule.confidence if rule.confidence is not None else quality / 100
    minimum = int(book.config["min_score_for_sync"])
    if not rule.gate_exempt and quality < minimum:
        gated = f"{reason}；但数据质量 {quality} 分低于最低同步分 {minimum} 分，暂不同步"
        return Decision("SKIP", rule.name, gated, confidence, ("min_score_for_sync",))
    if book.config["verify_before_sync"] and (problems := sync_problems(facts)):
        checked = f"{reason}；但同步前校验未通过：{'；'.join(problems)}"
        return Decision("SKIP", rule.name, checked, confidence, ("verify_before_sync",))
    action: Action = "CREATE" if facts.get("erp_customer_id") is None else "UPDATE"
    return Decision(action, rule.name, reason, confidence)
