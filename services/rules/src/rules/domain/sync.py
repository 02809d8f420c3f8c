"""What to push, and whether to push now: the rules' decision plus the fields the ERP does not have. Pure.

No ping-pong: a field is pushed only while our value differs from the ERP's last known value, so a value that
came from the ERP (or that the ERP confirmed after a push) is never sent back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rules.domain.customer import Customer, SyncStatus
from rules.domain.facts import facts_of
from rules.domain.fields import CATALOG, Strategy
from rules.domain.merge import Change, MergeSettings, Observation, merge
from rules.domain.provenance import Slot
from rules.domain.quality import Quality, score
from rules.domain.rulebook import Decision, RuleBook, evaluate


def differences(
    fields: Mapping[str, Slot], policy: Mapping[str, Strategy], creating: bool, *, force: bool = False
) -> dict[str, Any]:
    """Our values the ERP lacks, by our field names. An unverified core value goes only into a create; a value
    held for a manual decision (`pending`) goes nowhere until a person settles it (POST /customers/{id}/resolve).
    `force` (seed 004 Q3, an operator's re-sync): every value we hold, also those the ERP already shows."""
    out = {}
    for name, spec in CATALOG.items():
        slot = fields.get(name)
        if spec.push_name is None or slot is None or slot.value is None:
            continue
        if slot.pending is not None:  # awaits a person's decision: pushing ours would decide it silently
            continue
        if not force and (slot.source == "erp" or slot.value == slot.erp_value):
            continue
        if policy.get(name, spec.strategy) is Strategy.ERP_UNLESS_VERIFIED and not (
            slot.verified or creating
        ):
            continue
        out[name] = slot.value
    return out


@dataclass(frozen=True, slots=True)
class Plan:
    decision: Decision
    quality: Quality
    push: dict[str, Any]  # what a request would carry (our field names); empty when nothing is to be sent
    emit: bool  # write a CustomerSyncRequested now
    status: SyncStatus


def evaluate_customer(customer: Customer, book: RuleBook) -> tuple[Decision, Quality]:
    flat = customer.flat()
    quality = score(flat)
    return evaluate(facts_of(flat, quality), book), quality


def plan(customer: Customer, book: RuleBook, *, may_emit: bool = True, force: bool = False) -> Plan:
    """`may_emit=False` after a failed push: the connector has retried; the next change asks again.
    `force`: an operator's re-sync asks again even for values the ERP shows or a request already carries."""
    decision, quality = evaluate_customer(customer, book)
    creating = customer.erp_customer_id is None
    diffs = differences(customer.fields, book.policy, creating, force=force)
    push = diffs if decision.pushes else {}
    sync = customer.sync
    already_asked = not force and sync.outstanding and push.items() <= sync.requested.items()
    emit = may_emit and bool(push) and not already_asked
    status: SyncStatus
    if emit or sync.outstanding:
        status = "pending"
    elif not creating and not diffs:
        status = "synced"
    elif sync.status == "failed":
        status = "failed"
    else:
        status = "synced" if decision.pushes else "skipped"
    return Plan(decision, quality, push, emit, status)


def confirm_push(
    customer: Customer, pushed: Mapping[str, Any], erp_id: int | None, at: datetime, settings: MergeSettings
) -> tuple[dict[str, Slot], list[Change]]:
    """The ERP took a push: it now holds those values (and, after a create, our code and its new ord)."""
    values = dict(pushed)
    if erp_id is not None:
        values["erp_customer_id"] = erp_id
    if customer.erp_customer_id is None and erp_id is not None:
        values["erp_customer_code"] = customer.code
    return merge(customer.fields, Observation("erp", at, values), settings)


def merge_settings(book: RuleBook) -> MergeSettings:
    return MergeSettings(
        policy=book.policy,
        auto_fix=bool(book.config["auto_fix_format"]),
        erp_window=timedelta(seconds=int(book.config["erp_time_precision_s"])),
    )
