"""Apply progress reports from the mini-program and append what changed to the pending-updates feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from transform.adapters import repository as repo
from transform.adapters.locks import lock_contracts
from transform.domain.precedence import ProcessState, Report, overlay
from transform.domain.progress import Progress, compute_progress
from transform.domain.status import parse_status

if TYPE_CHECKING:
    import asyncpg

    from common.events.ingest import ProgressReported
    from transform.domain.routes import ProcessRoute
    from transform.service_layer.configuration import Configuration


def progress_of(route: ProcessRoute, states: dict[str, ProcessState]) -> Progress:
    words = {p: s.effective for p, s in states.items()}
    return compute_progress(route, {p: parse_status(w) if w else None for p, w in words.items()})


@dataclass(frozen=True, slots=True)
class ReportChange:
    event: ProgressReported
    occurred_at: datetime  # the envelope's: ingest's clock, for events sent before `received_at` existed

    @property
    def received_at(self) -> datetime:
        return self.event.received_at or self.occurred_at


def _report(c: ReportChange) -> Report:
    e = c.event
    return Report(
        e.product_id, e.process, e.status, e.update_time, e.updated_by, c.received_at, e.reporter_flag
    )


async def apply_reports(conn: asyncpg.Connection, changes: list[ReportChange], config: Configuration) -> None:
    """Reports keep their own version per (contract, line, process); older ones are superseded."""
    await lock_contracts(conn, {c.event.contract_no for c in changes})  # the lines path takes the same locks
    for change in changes:
        # A report naming a process by an alias or a former name lands on the process (the catalogue's name).
        e = change.event.model_copy(update={"process": config.catalog.canonical(change.event.process)})
        change = ReportChange(e, change.occurred_at)  # the same report, its process resolved
        if not await repo.save_report(conn, e, change.received_at):
            continue
        for line in await repo.lines_of(conn, e.contract_no, e.product_id):
            states = overlay(line.states, [_report(change)], line.product_id)
            if states == line.states:
                continue
            progress = progress_of(config.catalog.routes[line.product_type], states)
            await repo.save_progress(conn, line, list(states.values()), progress, e.updated_by, e.update_time)
