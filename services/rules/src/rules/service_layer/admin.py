"""Rules, config and field policies: evaluate, edit with an audit trail, and dry-run a proposed change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rules.domain.facts import facts_of
from rules.domain.fields import CATALOG, Strategy, clean
from rules.domain.quality import Quality, score
from rules.domain.rule_config import CONFIG, RuleError, check_config
from rules.domain.rule_parsing import RULE_NAME, parse_rule, patched, propose, rule_dict
from rules.domain.rulebook import Decision, RuleBook, evaluate
from rules.domain.sync import evaluate_customer

if TYPE_CHECKING:
    from rules.service_layer.ports import AbstractCustomerReads, UnitOfWorkFactory
    from rules.service_layer.rulebook_cache import RuleBookCache

FIXED_POLICIES = ("erp_customer_id", "erp_customer_code")  # server-owned: always the ERP's


class NotFoundError(LookupError):
    pass


class ConflictError(ValueError):
    pass


def quality_json(q: Quality) -> dict[str, Any]:
    factors = [
        {"factor": f.factor, "points": f.points, "max": f.max_points, "reason": f.reason} for f in q.factors
    ]
    return {"score": q.score, "factors": factors, "completeness": q.completeness, "issues": list(q.issues)}


def decision_json(d: Decision) -> dict[str, Any]:
    return {
        "action": d.action,
        "reason": d.reason,
        "rule": d.rule,
        "confidence": d.confidence,
        "gates": list(d.gates),
    }


def evaluate_payload(customer: Mapping[str, Any], book: RuleBook) -> dict[str, Any]:
    """What the seed's `rule_engine.evaluate(customer)` answers, plus the quality score behind it."""
    values = dict(customer)
    for name in ("phone", "company_name", "real_name", "email"):
        if name in values:
            values[name] = clean(name, values[name], bool(book.config["auto_fix_format"]))
    quality = score(values)
    decision = evaluate(facts_of(values, quality), book)
    return {**decision_json(decision), "quality": quality_json(quality), "rulebook_version": book.version}


def book_json(book: RuleBook, problems: list[str]) -> dict[str, Any]:
    return {
        "version": book.version,
        "rules": [rule_dict(r) for r in sorted(book.rules, key=lambda r: (-r.priority, r.position, r.name))],
        "config": dict(book.config),
        "field_policies": {k: v.value for k, v in sorted(book.policy.items())},
        "problems": problems,
    }


async def create_rule(start: UnitOfWorkFactory, raw: Mapping[str, Any], who: str) -> dict[str, Any]:
    rule = parse_rule(raw)
    async with start() as uow:
        if await uow.rulebook.rule(rule.name) is not None:
            raise ConflictError(f"规则 {rule.name} 已存在 / rule exists")
        new = rule_dict(rule)
        await uow.rulebook.write_rule(new, who)
        await uow.rulebook.audit("rule", rule.name, None, new, who)
        await uow.commit()
    return new


async def update_rule(
    start: UnitOfWorkFactory, name: str, patch: Mapping[str, Any], who: str
) -> dict[str, Any]:
    if not RULE_NAME.fullmatch(name):
        raise NotFoundError(name.replace("\x00", ""))
    async with start() as uow:
        stored = await uow.rulebook.rule(name)
        if stored is None:
            raise NotFoundError(name)
        old = rule_dict(parse_rule(stored))
        new = rule_dict(patched(parse_rule(stored), patch))
        if new != old:
            await uow.rulebook.write_rule(new, who)
            await uow.rulebook.audit("rule", name, old, new, who)
        await uow.commit()
    return new


async def set_config(start: UnitOfWorkFactory, key: str, value: Any, who: str) -> dict[str, Any]:
    if key not in CONFIG:
        raise NotFoundError(key)
    checked = check_config(key, value)
    async with start() as uow:
        stored, old = await uow.rulebook.config_value(key)
        if not stored or old != checked:
            await uow.rulebook.write_config(key, checked, CONFIG[key].description, who)
            await uow.rulebook.audit("config", key, old, checked, who)
        await uow.commit()
    return {"key": key, "value": checked, "previous": old}


async def set_policy(start: UnitOfWorkFactory, field: str, strategy: str, who: str) -> dict[str, Any]:
    if field not in CATALOG:
        raise NotFoundError(field)
    if strategy not in set(Strategy):
        raise RuleError(f"策略须为 {', '.join(Strategy)} / unknown strategy")
    if field in FIXED_POLICIES and strategy != Strategy.ERP_ALWAYS:
        raise RuleError(f"{field} 是 ERP 标识，只能为 erp_always / ERP identifiers stay erp_always")
    async with start() as uow:
        old = await uow.rulebook.policy(field)
        if old != strategy:
            await uow.rulebook.write_policy(field, strategy, who)
            await uow.rulebook.audit("field_policy", field, old, strategy, who)
        await uow.commit()
    return {"field": field, "strategy": strategy, "previous": old}


async def dry_run(
    reads: AbstractCustomerReads,
    cache: RuleBookCache,
    rule_patches: Mapping[str, Mapping[str, Any]],
    new_rules: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any],
    sample_size: int,
) -> dict[str, Any]:
    """Evaluate every customer under the current and the proposed rule book; count who would flip."""
    book = await cache.get()
    proposed = propose(book, rule_patches, new_rules, config)
    counts = {"evaluated": 0, "changed": 0, "to_push": 0, "to_hold": 0}
    sample: list[dict[str, Any]] = []
    after = ""
    while page := await reads.customer_page(after, 500):
        after = page[-1].id
        for customer in page:
            before_d, _ = evaluate_customer(customer, book)
            after_d, _ = evaluate_customer(customer, proposed)
            counts["evaluated"] += 1
            if (before_d.action, before_d.rule) != (after_d.action, after_d.rule):
                counts["changed"] += 1
            if before_d.pushes == after_d.pushes:
                continue
            counts["to_push" if after_d.pushes else "to_hold"] += 1
            if len(sample) < sample_size:
                sample.append(
                    _flip(customer.id, customer.code, customer.value("company_name"), before_d, after_d)
                )
    return {"rulebook_version": book.version, **counts, "sample": sample}


def _flip(customer_id: str, code: str, name: object, before: Decision, after: Decision) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "code": code,
        "company_name": name,
        "before": decision_json(before),
        "after": decision_json(after),
    }


async def audit_trail(reads: AbstractCustomerReads, limit: int, before: int | None) -> list[dict[str, Any]]:
    return await reads.audit_trail(limit, before)
