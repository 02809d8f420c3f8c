"""Sales staff's writes: resolve a held value, enter a customer by hand. Each is one transaction through the
same merge, history and sync decision (`finish`) as a capture or a pull; a push goes through the outbox."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rules.domain.manual import Choice, check_entry, entry_observation, resolve
from rules.domain.merge import merge
from rules.domain.names import company_key
from rules.domain.provenance import EMPTY
from rules.domain.record import Touch
from rules.domain.sync import merge_settings
from rules.service_layer.admin import NotFoundError
from rules.service_layer.decisions import Deps, Trigger, finish, new_customer

if TYPE_CHECKING:
    from rules.domain.customer import Customer
    from rules.domain.merge import Change
    from rules.domain.sync import Plan
    from rules.service_layer.ports import UnitOfWork, UnitOfWorkFactory


def _answer(customer: Customer, outcome: Plan, changes: list[Change]) -> dict[str, Any]:
    d = outcome.decision
    return {
        "customer_id": customer.id,
        "code": customer.code,
        "changes": [
            {"field": c.field, "change_type": c.change_type, "old": c.old, "new": c.new, "reason": c.reason}
            for c in changes
        ],
        "decision": {"action": d.action, "rule": d.rule, "reason": d.reason, "gates": list(d.gates)},
        "requested": outcome.emit,
        "erp_sync_status": outcome.status,
    }


async def resolve_pending(
    start: UnitOfWorkFactory,
    deps: Deps,
    customer_id: str,
    name: str,
    choice: Choice | None,
    value: Any,
    who: tuple[str, str],  # (client id, correlation id)
) -> dict[str, Any]:
    by, correlation = who
    async with start() as uow:
        customer = await uow.customers.find("id", customer_id)
        if customer is None:
            raise NotFoundError(customer_id)
        book = await deps.rulebook.get()
        now = datetime.now(UTC)
        done = resolve(name, customer.fields.get(name, EMPTY), choice, value, now, merge_settings(book), by)
        customer = replace(customer, fields={**customer.fields, name: done.slot})
        trigger = Trigger("manual_merge", uuid.uuid4(), correlation, by)
        outcome = await finish(uow, customer, [done.change], trigger, book, deps, Touch(local_updated_at=now))
        await uow.commit()
        return {**_answer(customer, outcome, [done.change]), "field": name, "value": done.slot.value}


async def _entry_target(uow: UnitOfWork, phone: str, key: str) -> tuple[Customer, str | None]:
    """By phone (one person), else by company among customers without a WeChat id (as a capture matches),
    else by company among all (two records of one company would meet in the ERP as one); else a new one."""
    found = await uow.customers.find("phone", phone)
    if found is not None:
        return found, "phone"
    for by in ("name_key_without_wechat", "name_key"):
        if (found := await uow.customers.find(by, key)) is not None:
            return found, "company_name"
    return await new_customer(uow), None


async def enter_customer(
    start: UnitOfWorkFactory,
    deps: Deps,
    values: dict[str, Any],
    verified: frozenset[str],
    who: tuple[str, str],
) -> dict[str, Any]:
    by, correlation = who
    async with start() as uow:
        book = await deps.rulebook.get()
        settings = merge_settings(book)
        entry = check_entry(values, settings.auto_fix)
        now = datetime.now(UTC)
        obs = entry_observation(entry, verified, now)
        key = company_key(entry["company_name"])
        await uow.customers.lock_identities({f"name:{key}", f"phone:{entry['phone']}"})
        customer, matched_by = await _entry_target(uow, entry["phone"], key)
        fields, changes = merge(customer.fields, obs, settings)
        customer = replace(customer, fields=fields)
        trigger = Trigger("manual_entry", uuid.uuid4(), correlation, by)
        touch = Touch(local_updated_at=now if changes else None)
        outcome = await finish(uow, customer, changes, trigger, book, deps, touch)
        await uow.commit()
        return {
            **_answer(customer, outcome, changes),
            "created": matched_by is None,
            "matched_by": matched_by,
        }
