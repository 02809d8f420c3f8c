"""Accept the factory's employee list in batches: one transaction for the rows and the idempotency record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from prometheus_client import Gauge

from common import topics
from common.events.envelope import Envelope
from common.events.ingest import EmployeeChanged
from ingest.domain.employees import Employee, parse_employees
from ingest.service_layer.events import SOURCE
from ingest.service_layer.idempotency import IdempotentRequest, remember, stored_answer

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from common.metrics import Metrics
    from ingest.service_layer.ports import UnitOfWork, UowFactory


def _answer(results: list[dict[str, Any]]) -> bytes:
    results.sort(key=lambda r: int(r["index"]))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "unchanged", "rejected")}
    return orjson.dumps({**counts, "results": results})


def _announce(uow: UnitOfWork, e: Employee, version: int, correlation_id: str) -> None:
    payload = EmployeeChanged(
        number=e.number,
        version=version,
        name=e.name,
        workshop=e.workshop,
        processes=list(e.processes),
        active=e.active,
    )
    envelope = Envelope[EmployeeChanged](
        event_type="EmployeeChanged", source=SOURCE, correlation_id=correlation_id, payload=payload
    )
    uow.outbox.add(topics.INGEST_EMPLOYEE_CHANGED, e.number, envelope)


async def upload_employees(
    uow_factory: UowFactory,
    rows: list[object],
    client_id: str,
    idempotency: IdempotentRequest | None,
    correlation_id: str = "",
) -> bytes:
    """Per row `accepted` (created or changed), `unchanged` or `rejected` with a reason, as the contract batch."""
    employees, rejections = parse_employees(rows)
    async with uow_factory() as uow:
        if idempotency and (stored := await stored_answer(uow.idempotency, idempotency)) is not None:
            return stored
        written = await uow.employees.upsert(employees, client_id) if employees else {}
        # transform keeps a copy for "my queue": each created or changed employee, in the same transaction.
        for e in employees:
            if e.number in written:
                _announce(uow, e, written[e.number], correlation_id)
        results: list[dict[str, Any]] = [
            {
                "index": e.index,
                "number": e.number,
                "status": "accepted" if e.number in written else "unchanged",
            }
            for e in employees
        ]
        results += [
            {"index": r.index, "status": "rejected", "reason": r.reason, "message": r.message}
            for r in rejections
        ]
        body = _answer(results)
        if idempotency:
            await remember(uow.idempotency, idempotency, body)
        await uow.commit()
    return body


async def announce_unannounced(uow_factory: UowFactory, correlation_id: str) -> int:
    """At start: publish the employees uploaded before their changes were published (once)."""
    async with uow_factory() as uow:
        employees = await uow.employees.unannounced()
        for e in employees:
            _announce(uow, e, e.index, correlation_id)
        await uow.employees.mark_announced([e.number for e in employees])
        await uow.commit()
    return len(employees)


def flagged_reporter_gauge(uow_factory: UowFactory, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """rollsync_progress_flagged_reporter{flag}: stored progress states whose last reporter was not an active
    employee ('unknown' or 'inactive'). Read from the database at scrape time, so every replica agrees."""
    gauge = Gauge(
        "rollsync_progress_flagged_reporter",
        "Progress states last reported by someone not on the employee list (unknown) or inactive",
        ["flag"],
        registry=metrics.registry,
    )

    async def refresh() -> None:
        async with uow_factory() as uow:  # read only: nothing to commit
            counts = await uow.employees.flagged_reports()
        for flag in ("unknown", "inactive"):
            gauge.labels(flag).set(counts.get(flag, 0))

    return refresh
