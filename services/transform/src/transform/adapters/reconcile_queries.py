"""SQL for reconciliation: the cloud's live lines with their effective process statuses, and stored results."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from transform.domain.line_feed import processes_view
from transform.domain.precedence import ProcessState
from transform.domain.reconcile import CloudLine

if TYPE_CHECKING:
    import asyncpg

    from transform.domain.reconcile import Outcome


def _state(r: Any) -> ProcessState:
    # The row's columns are the dataclass's fields, except the line's own column name (`source_column`).
    return ProcessState(
        **{f.name: r["source_column" if f.name == "column" else f.name] for f in fields(ProcessState)}
    )


async def cloud_lines(conn: asyncpg.Connection, contract_nos: list[str] | None) -> list[CloudLine]:
    """Every live line (of `contract_nos`, or all when None); call inside one snapshot.

    A deleted line stays in hetong_original as a tombstone (`deleted`); it is left out.
    """
    rows = await conn.fetch(
        "SELECT h.contract_no, h.product_id, h.row::text AS row FROM hetong_original h"
        " WHERE NOT h.deleted AND ($1::text[] IS NULL OR h.contract_no = any($1::text[]))",
        contract_nos,
    )
    states = await conn.fetch(
        "SELECT pp.* FROM product_processes pp JOIN hetong_original h USING (contract_no, product_id)"
        " WHERE NOT h.deleted AND ($1::text[] IS NULL OR h.contract_no = any($1::text[]))",
        contract_nos,
    )
    by_line: dict[tuple[str, str], list[ProcessState]] = {}
    for r in states:
        by_line.setdefault((r["contract_no"], r["product_id"]), []).append(_state(r))
    # Exactly the statuses the feed's `processes` shows for the line (the agent writes those locally), also into
    # the line's own column when it names the process otherwise (an alias: the agent writes that column).
    views = {k: processes_view(s) for k, s in by_line.items()}
    processes = {k: {p: str(v["status"]) for p, v in view.items()} for k, view in views.items()}
    columns = {
        k: {str(v["column"]): str(v["status"]) for v in view.values() if "column" in v}
        for k, view in views.items()
    }
    return [
        CloudLine(
            r["contract_no"],
            r["product_id"],
            {**orjson.loads(r["row"]), **columns.get((r[0], r[1]), {})},
            processes.get((r[0], r[1]), {}),
        )
        for r in rows
    ]


async def save_result(conn: asyncpg.Connection, client_id: str, complete: bool, outcome: Outcome) -> datetime:
    """Keep the latest result per client (a newer digest replaces the older one)."""
    at: datetime = await conn.fetchval(
        """INSERT INTO reconciliations AS r (client_id, checked_at, complete, checked, missing_in_cloud,
                  missing_locally, different)
           VALUES ($1, now(), $2, $3, $4::jsonb, $5::jsonb, $6::jsonb)
           ON CONFLICT (client_id) DO UPDATE SET checked_at = excluded.checked_at, complete = excluded.complete,
                  checked = excluded.checked, missing_in_cloud = excluded.missing_in_cloud,
                  missing_locally = excluded.missing_locally, different = excluded.different
           RETURNING checked_at""",
        client_id,
        complete,
        outcome.checked,
        orjson.dumps(outcome.missing_in_cloud).decode(),
        orjson.dumps(outcome.missing_locally).decode(),
        orjson.dumps(outcome.different).decode(),
    )
    return at


async def latest_results(conn: asyncpg.Pool | asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT client_id, checked_at, complete, checked, missing_in_cloud::text, missing_locally::text,"
        " different::text FROM reconciliations ORDER BY client_id"
    )
    return [
        {
            "client_id": r["client_id"],
            "checked_at": r["checked_at"],
            "complete": r["complete"],
            "checked": r["checked"],
            "missing_in_cloud": orjson.loads(r["missing_in_cloud"]),
            "missing_locally": orjson.loads(r["missing_locally"]),
            "different": orjson.loads(r["different"]),
        }
        for r in rows
    ]


class PostgresReconciliation:
    """transform.service_layer.ports.ReconciliationStore on the pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def cloud_lines(self, contract_nos: list[str] | None) -> list[CloudLine]:
        # One snapshot for the lines and their process states.
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return await cloud_lines(conn, contract_nos)

    async def save_result(self, client_id: str, complete: bool, outcome: Outcome) -> datetime:
        async with self._pool.acquire() as conn:
            return await save_result(conn, client_id, complete, outcome)

    async def latest_results(self) -> list[dict[str, Any]]:
        return await latest_results(self._pool)
