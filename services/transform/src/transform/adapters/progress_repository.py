"""SQL for progress reports and the lines they move."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transform.adapters.lines_repository import process_states, save_states
from transform.service_layer.ports import LineState

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

    from common.events.ingest import ProgressReported
    from transform.domain.precedence import ProcessState
    from transform.domain.progress import Progress


class PostgresProgress:
    """transform.service_layer.ports.ProgressRepository on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def save_report(self, report: ProgressReported, received_at: datetime) -> bool:
        return await save_report(self._conn, report, received_at)

    async def lines_of(self, contract_no: str, product_id: str | None) -> list[LineState]:
        return await lines_of(self._conn, contract_no, product_id)

    async def save_progress(
        self, line: LineState, states: list[ProcessState], progress: Progress, by: str, at: datetime
    ) -> None:
        await save_progress(self._conn, line, states, progress, by, at)


async def save_report(conn: asyncpg.Connection, e: ProgressReported, received_at: datetime) -> bool:
    """Keep the report if it is newer than the one held; False means superseded."""
    row = await conn.fetchval(
        """INSERT INTO progress_reports AS r (contract_no, product_id, process, status, version, updated_by, update_time,
             received_at, reporter_flag)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (contract_no, product_id, process) DO UPDATE SET status = excluded.status,
             version = excluded.version, updated_by = excluded.updated_by, update_time = excluded.update_time,
             received_at = excluded.received_at, reporter_flag = excluded.reporter_flag
           WHERE r.version < excluded.version RETURNING true""",
        e.contract_no,
        e.product_id or "",
        e.process,
        e.status,
        e.version,
        e.updated_by,
        e.update_time,
        received_at,
        e.reporter_flag,
    )
    return bool(row)


async def lines_of(conn: asyncpg.Connection, contract_no: str, product_id: str | None) -> list[LineState]:
    products = await conn.fetch(
        "SELECT product_id, product_type FROM products WHERE contract_no = $1 AND ($2::text IS NULL OR product_id = $2)"
        " ORDER BY product_id FOR UPDATE",
        contract_no,
        product_id,
    )
    states = await process_states(conn, [(contract_no, r["product_id"]) for r in products])
    return [
        LineState(
            contract_no, r["product_id"], r["product_type"], states.get((contract_no, r["product_id"]), {})
        )
        for r in products
    ]


async def save_progress(
    conn: asyncpg.Connection,
    line: LineState,
    states: list[ProcessState],
    progress: Progress,
    by: str,
    at: datetime,
) -> None:
    """The line's states and progress; the caller appends the feed item."""
    key = (line.contract_no, line.product_id)
    await save_states(conn, [(key, s) for s in states])
    await conn.execute(
        "UPDATE products SET progress_percentage = $3, current_process = $4, finished = $5, updated_at = $6,"
        " updated_by = $7 WHERE contract_no = $1 AND product_id = $2",
        line.contract_no,
        line.product_id,
        progress.percentage,
        progress.current_process,
        progress.finished,
        at,
        by,
    )
