"""What operators and sales staff ask about customers: pending sync, statistics, search, candidates, one customer
with provenance, its history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules.domain.provenance_json import slot_to_json
from rules.service_layer.admin import NotFoundError

if TYPE_CHECKING:
    from rules.domain.search import Search
    from rules.service_layer.ports import AbstractCustomerReads


async def pending_sync(reads: AbstractCustomerReads, limit: int, offset: int) -> dict[str, Any]:
    total, customers = await reads.pending(limit, offset)
    return {"total": total, "customers": customers}


async def sync_statistics(reads: AbstractCustomerReads, days: int) -> dict[str, Any]:
    rows, failures = await reads.statistics(days)
    totals: dict[str, dict[str, int]] = {}
    for r in rows:
        by_result = totals.setdefault(r["direction"], {})
        by_result[r["result"]] = by_result.get(r["result"], 0) + r["count"]
    return {"days": days, "rows": rows, "totals": totals, "failures_last_hour": failures}


def _storable(customer_id: str) -> str:
    if "\x00" in customer_id:  # cannot be an id we stored
        raise NotFoundError(customer_id.replace("\x00", ""))
    return customer_id


async def customer_detail(reads: AbstractCustomerReads, customer_id: str) -> dict[str, Any]:
    found = await reads.customer(_storable(customer_id))
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
        "decisions": await reads.decisions(customer_id, 10),
    }


async def customer_history(
    reads: AbstractCustomerReads, customer_id: str, limit: int, before: int | None
) -> dict[str, Any]:
    if not await reads.exists(_storable(customer_id)):
        raise NotFoundError(customer_id)
    changes = await reads.history(customer_id, limit, before)
    next_before = changes[-1]["id"] if len(changes) == limit else None
    return {"customer_id": customer_id, "changes": changes, "next_before": next_before}


async def search(reads: AbstractCustomerReads, query: Search) -> dict[str, Any]:
    total, rows = await reads.search(query)
    return {"total": total, "limit": query.limit, "offset": query.offset, "customers": rows}


async def candidates(reads: AbstractCustomerReads, limit: int, offset: int) -> dict[str, Any]:
    return {"candidates": await reads.candidates(limit, offset)}
