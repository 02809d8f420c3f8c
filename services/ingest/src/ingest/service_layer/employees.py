"""Accept the factory's employee list in batches: one transaction for the rows and the idempotency record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ingest.adapters import employees_repository as repo
from ingest.domain.employees import parse_employees
from ingest.service_layer.idempotency import IdempotentRequest, remember, stored_answer

if TYPE_CHECKING:
    import asyncpg


def _answer(results: list[dict[str, Any]]) -> bytes:
    results.sort(key=lambda r: int(r["index"]))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "unchanged", "rejected")}
    return orjson.dumps({**counts, "results": results})


async def upload_employees(
    pool: asyncpg.Pool, rows: list[object], client_id: str, idempotency: IdempotentRequest | None
) -> bytes:
    """Per row `accepted` (created or changed), `unchanged` or `rejected` with a reason, as the contract batch."""
    employees, rejections = parse_employees(rows)
    async with pool.acquire() as conn, conn.transaction():
        if idempotency and (stored := await stored_answer(conn, idempotency)) is not None:
            return stored
        written = await repo.upsert(conn, employees, client_id) if employees else set()
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
