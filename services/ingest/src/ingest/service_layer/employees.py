"""Accept the factory's employee list in batches: one transaction for the rows and the idempotency record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from prometheus_client import Gauge

from common import outbox, topics
from common.events.envelope import Envelope
from common.events.ingest import EmployeeChanged
from ingest.adapters import employees_repository as repo
from ingest.domain.employees import Employee, parse_employees
from ingest.service_layer.idempotency import IdempotentRequest, remember, stored_answer

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import asyncpg

    from common.metrics import Metrics

SCHEMA = "ingest"


def _answer(results: list[dict[str, Any]]) -> bytes:
    results.sort(key=lambda r: int(r["index"]))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "unchanged", "rejected")}
    return orjson.dumps({**counts, "results": results})


def _changed(e: Employee, version: int, correlation_id: str) -> outbox.OutboxRow:
    payload = EmployeeChanged(
        number=e.number,
        version=version,
        name=e.name,
        workshop=e.workshop,
        processes=list(e.processes),
        active=e.active,
    )
    envelope = Envelope[EmployeeChanged](
        event_type="EmployeeChanged", source=SCHEMA, correlation_id=correlation_id, payload=payload
    )
    return outbox.row_for(topics.INGEST_EMPLOYEE_CHANGED, e.number, envelope)


async def upload_employees(
    pool: asyncpg.Pool,
    rows: list[object],
    client_id: str,
    idempotency: IdempotentRequest | None,
    correlation_id: str = "",
) -> bytes:
    """Per row `accepted` (created or changed), `unchanged` or `rejected` with a reason, as the contract batch."""
    employees, rejections = parse_employees(rows)
    async with pool.acquire() as conn, conn.transaction():
        if idempotency and (stored := await stored_answer(conn, idempotency)) is not None:
            return stored
        written = await repo.upsert(conn, employees, client_id) if employees else {}
        # transform keeps a copy for "my queue": each created or changed employee, in the same transaction.
        changed = [_changed(e, written[e.number], correlation_id) for e in employees if e.number in written]
        await outbox.add(conn, SCHEMA, changed)
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
            await remember(conn, idempotency, body)
    return body


async def announce_unannounced(pool: asyncpg.Pool, correlation_id: str) -> int:
    """At start: publish the employees uploaded before their changes were published (once)."""
    async with pool.acquire() as conn, conn.transaction():
        employees = await repo.unannounced(conn)
        await outbox.add(conn, SCHEMA, [_changed(e, e.index, correlation_id) for e in employees])
        await repo.mark_announced(conn, [e.number for e in employees])
    return len(employees)


def flagged_reporter_gauge(pool: asyncpg.Pool, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """rollsync_progress_flagged_reporter{flag}: stored progress states whose last reporter was not an active
    employee ('unknown' or 'inactive'). Read from the database at scrape time, so every replica agrees."""
    gauge = Gauge(
        "rollsync_progress_flagged_reporter",
        "Progress states last reported by someone not on the employee list (unknown) or inactive",
        ["flag"],
        registry=metrics.registry,
    )

    async def refresh() -> None:
        counts = await repo.flagged_reports(pool)
        for flag in ("unknown", "inactive"):
            gauge.labels(flag).set(counts.get(flag, 0))

    return refresh
