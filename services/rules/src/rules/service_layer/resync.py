"""Seed 004 Q3: an operator forces a customer's re-sync. The rules decide as after any change; when they say push,
every value we hold is requested again (not only what the ERP lacks), through the same outbox as every push."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from rules.domain.record import Touch
from rules.service_layer.admin import NotFoundError
from rules.service_layer.decisions import Deps, Trigger, finish

if TYPE_CHECKING:
    from rules.service_layer.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


async def force_resync(
    start: UnitOfWorkFactory, deps: Deps, customer_id: str, correlation_id: str
) -> dict[str, Any]:
    async with start() as uow:
        answer = await _resync(uow, deps, customer_id, correlation_id)
        await uow.commit()
        return answer


async def _resync(uow: UnitOfWork, deps: Deps, customer_id: str, correlation_id: str) -> dict[str, Any]:
    customer = await uow.customers.find("id", customer_id)
    if customer is None:
        raise NotFoundError(customer_id)
    book = await deps.rulebook.get()
    trigger = Trigger("manual_resync", uuid.uuid4(), correlation_id)
    outcome = await finish(uow, customer, [], trigger, book, deps, Touch(), force=True)
    d = outcome.decision
    return {
        "customer_id": customer_id,
        "requested": outcome.emit,
        "fields": sorted(outcome.push) if outcome.emit else [],
        "decision": {"action": d.action, "rule": d.rule, "reason": d.reason, "gates": list(d.gates)},
        "erp_sync_status": outcome.status,
    }


async def work_off_requests(start: UnitOfWorkFactory, deps: Deps, limit: int = 50) -> int:
    """The seed's form of Q3 (migration 0062): customers an operator set to 'pending' by SQL, re-synced."""
    done = 0
    while done < limit:
        async with start() as uow:  # the request goes only with its effect
            request = await uow.resync_requests.take_next()
            if request is None:
                return done
            await _resync(uow, deps, request.customer_id, f"sql-resync-{request.requested_by}")
            await uow.commit()
        done += 1
    return done


async def work_off_every(start: UnitOfWorkFactory, deps: Deps, interval_s: float) -> None:
    while True:
        try:
            await work_off_requests(start, deps)
        except Exception:  # the database is away or a customer fails: logged, the next turn tries again
            log.exception("operator re-sync requests: run failed", extra={"job": "resync_requests"})
        await asyncio.sleep(interval_s)
