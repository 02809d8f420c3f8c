"""After every change to a customer: evaluate the rules, record the decision, and request a push when the
decision says so and the ERP lacks something — all in the change's own transaction (outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from common import outbox, topics
from common.events.customers import CustomerSyncRequested
from common.events.envelope import Envelope
from rules.adapters import customers as repo
from rules.domain.customer import Customer
from rules.domain.fields import push_names
from rules.domain.sync import Plan, plan

if TYPE_CHECKING:
    import asyncpg

    from rules.domain.merge import Change
    from rules.domain.rulebook import Decision, RuleBook
    from rules.service_layer.rulebook_cache import RuleBookCache

SCHEMA = "rules"


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
    conn: asyncpg.Connection, *, wechat_id: str | None = None, erp_customer_id: int | None = None
) -> Customer:
    code = await repo.next_code(conn)
    return Customer(new_customer_id(), code, wechat_id=wechat_id, erp_customer_id=erp_customer_id)


async def finish(
    conn: asyncpg.Connection,
    customer: Customer,
    changes: list[Change],
    trigger: Trigger,
    book: RuleBook,
    deps: Deps,
    touch: repo.Touch,
    *,
    may_emit: bool = True,
    force: bool = False,
) -> Plan:
    key = customer.name_key
    if key and not customer.contract_linked and await repo.has_contract_lines(conn, key):
        customer = replace(customer, contract_linked=True)
    outcome = plan(customer, book, may_emit=may_emit, force=force)
    sync = replace(customer.sync, status=outcome.status)
    if outcome.emit:
        sync = replace(sync, version=sync.version + 1, requested=outcome.push)
    customer = replace(customer, sync=sync)
    await repo.save(conn, customer, outcome, touch)
    if changes:
        await repo.add_history(conn, customer.id, changes, trigger.name, trigger.event_id, trigger.by)
    if outcome.emit:
        await repo.add_request(conn, customer, outcome)
        await outbox.add(conn, SCHEMA, [_request(customer, outcome, trigger)])
    txid = await repo.add_decision(conn, customer, outcome, trigger.name, book.version)
    deps.on_decision(outcome.decision, txid)
    return outcome


def _request(customer: Customer, outcome: Plan, trigger: Trigger) -> outbox.OutboxRow:
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
    envelope = Envelope[CustomerSyncRequested](
        event_type="CustomerSyncRequested",
        source=SCHEMA,
        correlation_id=trigger.correlation_id,
        payload=payload,
    )
    return outbox.row_for(topics.RULES_CUSTOMER_SYNC_REQUESTED, customer.id, envelope)
