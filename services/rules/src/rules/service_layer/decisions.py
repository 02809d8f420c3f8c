"""After every change to a customer: evaluate the rules, record the decision, and request a push when the
decision says so and the ERP lacks something — all in the change's own transaction (outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from common import topics
from common.events.customers import CustomerSyncRequested
from common.events.envelope import Envelope
from rules.domain.customer import Customer
from rules.domain.fields import push_names
from rules.domain.record import CustomerRecord, Touch
from rules.domain.sync import Plan, plan

if TYPE_CHECKING:
    from rules.domain.merge import Change
    from rules.domain.rulebook import Decision, RuleBook
    from rules.service_layer.ports import UnitOfWork
    from rules.service_layer.rulebook_cache import RuleBookCache

SOURCE = "rules"  # the envelope's `source`


def _ignore(_: Decision, __: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Deps:
    rulebook: RuleBookCache
    # (decision, id of the transaction that stored it): the decisions counter counts it once that commits
    on_decision: Callable[[Decision, str], None] = field(default=_ignore)


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str  # wechat_capture / erp_pull / push_result / contract / manual_resync / manual_merge / manual_entry
    event_id: uuid.UUID | None
    correlation_id: str
    by: str = "system"  # who: a person's token client id for the manual triggers (history `changed_by`)


def new_customer_id() -> str:
    return f"cu_{uuid.uuid4().hex}"


async def new_customer(
    uow: UnitOfWork, *, wechat_id: str | None = None, erp_customer_id: int | None = None
) -> Customer:
    code = await uow.customers.next_code()
    return Customer(new_customer_id(), code, wechat_id=wechat_id, erp_customer_id=erp_customer_id)


async def finish(
    uow: UnitOfWork,
    customer: Customer,
    changes: list[Change],
    trigger: Trigger,
    book: RuleBook,
    deps: Deps,
    touch: Touch,
    *,
    may_emit: bool = True,
    force: bool = False,
) -> Plan:
    key = customer.name_key
    if key and not customer.contract_linked and await uow.customers.has_contract_lines(key):
        customer = replace(customer, contract_linked=True)
    outcome = plan(customer, book, may_emit=may_emit, force=force)
    sync = replace(customer.sync, status=outcome.status)
    if outcome.emit:
        sync = replace(sync, version=sync.version + 1, requested=outcome.push)
    customer = replace(customer, sync=sync)
    await uow.customers.save(CustomerRecord.of(customer, outcome, touch))
    if changes:
        await uow.customers.add_history(customer.id, changes, trigger.name, trigger.event_id, trigger.by)
    if outcome.emit:
        await uow.customers.add_request(customer, outcome)
        uow.outbox.add(
            topics.RULES_CUSTOMER_SYNC_REQUESTED, customer.id, _request(customer, outcome, trigger)
        )
    txid = await uow.customers.add_decision(customer, outcome, trigger.name, book.version)
    deps.on_decision(outcome.decision, txid)
    return outcome


def _request(customer: Customer, outcome: Plan, trigger: Trigger) -> Envelope[CustomerSyncRequested]:
    d = outcome.decision
    payload = CustomerSyncRequested(
        customer_id=customer.id,
        code=customer.code,
        action="create" if d.action == "CREATE" else "update",
        erp_id=customer.erp_customer_id,
        version=customer.sync.version,
        fields=push_names(outcome.push),
        rule=d.rule,
        reason=d.reason,
    )
    return Envelope[CustomerSyncRequested](
        event_type="CustomerSyncRequested",
        source=SOURCE,
        correlation_id=trigger.correlation_id,
        payload=payload,
    )
