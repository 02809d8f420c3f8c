"""What an operator asks about customers: pending sync, statistics, one customer with provenance, history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules.adapters import queries
from rules.adapters.codec import slot_to_json
from rules.service_layer.admin import NotFoundError

if TYPE_CHECKING:
    import asyncpg


async def pending_sync(pool: asyncpg.Pool, limit: int, offset: int) -> dict[str, Any]:
    total, customers = await queries.pending(pool, limit, offset)
    return {"total": total, "customers": customers}


async def sync_statistics(pool: asyncpg.Pool, days: int) -> dict[str, Any]:
    rows, failures = await queries.statistics(pool, days)
    totals: dict[str, dict[str, int]] = {}
    for r in rows:
        by_result = totals.setdefault(r["direction"], {})
        by_result[r["result"]] = by_result.get(r["result"], 0) + r["count"]
    return {"days": days, "rows": rows, "totals": totals, "failures_last_hour": failures}


def _storable(customer_id: str) -> str:
    if "\x00" in customer_id:  # cannot be an id we stored
        raise NotFoundError(customer_id.replace("\x00", ""))
    return customer_id


async def customer_detail(pool: asyncpg.Pool, customer_id: str) -> dict[str, Any]:
    found = await queries.customer(pool, _storable(customer_id))
    if found is None:
        raise NotFoundError(customer_id)
    customer, extra = found
    return {
        "id": customer.id,
        "code": customer.code,
        "erp_customer_id": customer.erp_customer_id,
        "wechat_id": customer.wechat_id,
        "contract_linked": customer.contract_linked,
        "fields": {name: slot.value for name, slot in sorted(customer.fields.items())},
        "provenance": {name: slot_to_json(slot) for name, slot in sorted(customer.fields.items())},
        # what sales staff may settle with POST /customers/{id}/resolve
        "pending": {
            name: {
                "current": slot.value,
                "pending": slot.pending.value,
                "pending_source": slot.pending.source,
            }
            for name, slot in sorted(customer.fields.items())
            if slot.pending is not None
        },
        **extra,
        "decisions": await queries.decisions(pool, customer_id, 10),
    }


async def customer_history(
    pool: asyncpg.Pool, customer_id: str, limit: int, before: int | None
) -> dict[str, Any]:
    if not await queries.exists(pool, _storable(customer_id)):
        raise NotFoundError(customer_id)
    changes = await queries.history(pool, customer_id, limit, before)
    next_before = changes[-1]["id"] if len(changes) == limit else None
    return {"customer_id": customer_id, "changes": changes, "next_before": next_before}
