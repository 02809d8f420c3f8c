"""What the ERP push did: the customer's ERP id, what the ERP now holds, and its sync status."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rules.domain.record import Touch
from rules.domain.sync import confirm_push, merge_settings
from rules.service_layer.decisions import Deps, Trigger, finish

if TYPE_CHECKING:
    from common.events.customers import CustomerPushCompleted
    from rules.domain.customer import Customer
    from rules.domain.merge import Change, MergeSettings
    from rules.service_layer.ports import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Completed:
    event: CustomerPushCompleted
    trigger: Trigger


async def _erp_id_problem(uow: UnitOfWork, customer: Customer, erp_id: int | None) -> str | None:
    if erp_id is None or customer.erp_customer_id == erp_id:
        return None
    if customer.erp_customer_id is not None:
        return f"ERP 返回的 ord {erp_id} 与已知的 {customer.erp_customer_id} 不同 / ord mismatch"
    holder = await uow.customers.find("erp_customer_id", erp_id, lock=False)
    if holder is not None:
        return f"ord {erp_id} 已属于客户 {holder.id}，需人工合并 / ord already linked to another customer"
    return None


async def _confirmed(
    uow: UnitOfWork,
    customer: Customer,
    e: CustomerPushCompleted,
    asked: dict[str, Any],
    s: MergeSettings,
) -> tuple[Customer, list[Change], str | None]:
    problem = await _erp_id_problem(uow, customer, e.erp_id)
    if problem is not None:
        return customer, [], problem
    fields, changes = confirm_push(customer, asked, e.erp_id, e.completed_at, s)
    return (
        replace(customer, fields=fields, erp_customer_id=e.erp_id or customer.erp_customer_id),
        changes,
        None,
    )


async def apply_push_results(uow: UnitOfWork, batch: list[Completed], deps: Deps) -> None:
    book = await deps.rulebook.get()
    settings = merge_settings(book)
    for item in sorted(batch, key=lambda c: (c.event.customer_id, c.event.version)):
        e = item.event
        customer = await uow.customers.find("id", e.customer_id)
        if customer is None:
            log.warning(
                "push result for an unknown customer ignored",
                extra={"customer_id": e.customer_id, "event_id": str(item.trigger.event_id)},
            )
            continue
        if e.version <= customer.sync.result_version:
            continue  # a duplicate or an answer older than one applied
        asked = await uow.customers.complete_request(
            e.customer_id, e.version, e.result, e.erp_id, e.error, e.completed_at
        )
        changes: list[Change] = []
        error = (e.error or "推送失败 / push failed")[:2000] if e.result == "failed" else None
        if e.result == "synced":
            customer, changes, error = await _confirmed(uow, customer, e, asked or {}, settings)
        ok = error is None
        latest = e.version >= customer.sync.version
        status = ("synced" if ok else "failed") if latest else customer.sync.status
        customer = replace(customer, sync=replace(customer.sync, result_version=e.version, status=status))
        touch = Touch(erp_last_pushed=e.completed_at if ok else None, error=error, clear_error=ok and latest)
        await finish(uow, customer, changes, item.trigger, book, deps, touch, may_emit=ok)
        detail = {"version": e.version, "erp_id": e.erp_id, "error": error}
        await uow.customers.log(customer.id, "local_to_erp", "push", "success" if ok else "failed", detail)
    await uow.commit()
