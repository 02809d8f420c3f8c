"""Seed 004 Q3: an operator forces a customer's re-sync. The rules decide as after any change; when they say push,
every value we hold is requested again (not only what the ERP lacks), through the same outbox as every push."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rules.adapters import customers as repo
from rules.service_layer.admin import NotFoundError
from rules.service_layer.decisions import Deps, Trigger, finish

if TYPE_CHECKING:
    import asyncpg


async def force_resync(
    pool: asyncpg.Pool, deps: Deps, customer_id: str, correlation_id: str
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        customer = await repo.find(conn, "id", customer_id)
        if customer is None:
            raise NotFoundError(customer_id)
        book = await deps.rulebook.get()
        trigger = Trigger("manual_resync", uuid.uuid4(), correlation_id)
        outcome = await finish(conn, customer, [], trigger, book, deps, repo.Touch(), force=True)
    d = outcome.decision
    return {
        "customer_id": customer_id,
        "requested": outcome.emit,
        "fields": sorted(outcome.push) if outcome.emit else [],
        "decision": {"action": d.action, "rule": d.rule, "reason": d.reason, "gates": list(d.gates)},
        "erp_sync_status": outcome.status,
    }
