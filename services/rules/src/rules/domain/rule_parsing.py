"""Rules and conditions as stored or as an admin sends them: checked, never guessed. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rules.domain.facts import FACTS, FLAGS
from rules.domain.fields import DEFAULT_POLICY, Strategy
from rules.domain.rule_config import CONFIG, RuleError, check_config
from rules.domain.rulebook import NUMERIC_FACTS, NUMERIC_OPS, OPS, Condition, Rule, RuleBook

# (version, rules, config, field policies) as stored
Snapshot = tuple[int, list[dict[str, Any]], dict[str, Any], dict[str, str]]


def parse_condition(raw: Mapping[str, Any]) -> Condition:
    fact, op = raw.get("fact"), raw.get("op")
    if fact not in FACTS:
        raise RuleError(f"未知事实 {fact!r}，可用 {', '.join(FACTS)} / unknown fact")
    if op not in OPS:
        raise RuleError(f"未知运算 {op!r}，可用 {', '.join(OPS)} / unknown op")
    config, value = raw.get("config"), raw.get("value")
    if isinstance(value, str) and (len(value) > 200 or "\x00" in value):
        raise RuleError("value 须为不超过 200 字的文本 / value too long or not storable")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise RuleError("value 须为数字、文本或布尔 / value must be a number, text or boolean")
    if config is not None and config not in CONFIG:
        raise RuleError(f"未知配置项 {config!r} / unknown config key")
    if op in NUMERIC_OPS:
        if fact not in NUMERIC_FACTS:
            raise RuleError(f"{fact} 不是数值事实 / not a numeric fact")
        if config is None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RuleError(f"{op} 需要数值 value 或 config / needs a number")
    if op in ("is_true", "is_false") and fact not in FLAGS:
        raise RuleError(f"{fact} 不是布尔事实 / not a flag")
    return Condition(str(fact), str(op), value, config)


RULE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
RULE_KEYS = (
    "priority",
    "position",
    "conditions",
    "action",
    "reason",
    "confidence",
    "gate_exempt",
    "enabled",
    "description",
)


def _int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not -10_000 <= value <= 10_000:
        raise RuleError(f"{key} 须为 -10000..10000 的整数 / must be an integer")
    return value


def _flag(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise RuleError(f"{key} 须为 true/false / must be a boolean")
    return value


def _text(raw: Mapping[str, Any], key: str, default: str, limit: int) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise RuleError(f"{key} 须为不超过 {limit} 字的文本 / must be text up to {limit} characters")
    return value


def _fraction(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def parse_rule(raw: Mapping[str, Any]) -> Rule:
    """A rule as stored or as an admin sends it; raises RuleError with what is wrong."""
    name = raw.get("name")
    if not isinstance(name, str) or not RULE_NAME.fullmatch(name):
        raise RuleError("name 须为小写字母开头的 [a-z0-9_]，最多 64 字 / invalid rule name")
    conditions = raw.get("conditions", [])
    if (
        not isinstance(conditions, list)
        or len(conditions) > 20
        or not all(isinstance(c, dict) for c in conditions)
    ):
        raise RuleError("conditions 须为最多 20 个条件对象的数组 / conditions must be a list of objects")
    action = raw.get("action")
    if action not in ("sync", "skip"):
        raise RuleError("action 须为 sync 或 skip / action must be sync or skip")
    confidence = raw.get("confidence")
    if confidence is not None and not _fraction(confidence):
        raise RuleError("confidence 须为 0..1 或 null / confidence must be within 0..1")
    reason = _text(raw, "reason", "", 500)
    if not reason.strip():
        raise RuleError("reason 不能为空 / reason is required")
    return Rule(
        name=name,
        priority=_int(raw, "priority", 0),
        conditions=tuple(parse_condition(c) for c in conditions),
        action=action,
        reason=reason,
        enabled=_flag(raw, "enabled", True),
        confidence=None if confidence is None else float(confidence),
        gate_exempt=_flag(raw, "gate_exempt", False),
        position=_int(raw, "position", 0),
        description=_text(raw, "description", "", 500),
    )


def rule_dict(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "priority": rule.priority,
        "position": rule.position,
        "conditions": [c.as_dict() for c in rule.conditions],
        "action": rule.action,
        "reason": rule.reason,
        "confidence": rule.confidence,
        "gate_exempt": rule.gate_exempt,
        "enabled": rule.enabled,
        "description": rule.description,
    }


def patched(rule: Rule, patch: Mapping[str, Any]) -> Rule:
    unknown = set(patch) - set(RULE_KEYS)
    if unknown:
        raise RuleError(f"不能修改 {sorted(unknown)} / unknown or read-only keys")
    return parse_rule({**rule_dict(rule), **patch})


def build_book(
    version: int, rules: Sequence[Mapping[str, Any]], config: Mapping[str, Any], policies: Mapping[str, str]
) -> tuple[RuleBook, list[str]]:
    """The rule book from stored rows. A row that does not parse is left out and reported, never guessed."""
    problems, parsed = [], []
    for raw in rules:
        try:
            parsed.append(parse_rule(raw))
        except RuleError as exc:
            problems.append(f"rule {raw.get('name')}: {exc}")
    values = {k: s.default for k, s in CONFIG.items()}
    for key, value in config.items():
        try:
            values[key] = check_config(key, value)
        except RuleError as exc:
            problems.append(f"config {key}: {exc}")
    policy = dict(DEFAULT_POLICY)
    for field_name, strategy in policies.items():
        if field_name in policy and strategy in set(Strategy):
            policy[field_name] = Strategy(strategy)
        else:
            problems.append(f"field policy {field_name}: unknown field or strategy {strategy!r}")
    return RuleBook(version, tuple(parsed), values, policy), problems


def propose(
    book: RuleBook,
    rule_patches: Mapping[str, Mapping[str, Any]],
    new_rules: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> RuleBook:
    """The rule book as it would be after these edits (a dry run); nothing is saved."""
    rules = {r.name: r for r in book.rules}
    for name, patch in rule_patches.items():
        if name not in rules:
            raise RuleError(f"未知规则 {name} / unknown rule")
        rules[name] = patched(rules[name], patch)
    for raw in new_rules:
        rule = parse_rule(raw)
        if rule.name in rules:
            raise RuleError(f"规则 {rule.name} 已存在 / rule exists")
        rules[rule.name] = rule
    values = dict(book.config)
    values |= {key: check_config(key, value) for key, value in config.items()}
    return RuleBook(book.version, tuple(rules.values()), values, book.policy)
