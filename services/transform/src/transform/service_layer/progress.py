"""Apply progress reports from the mini-program and append what changed to the pending-updates feed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from transform.domain.line_feed import FeedWrite, processes_view
from transform.domain.precedence import ProcessState, Report, overlay
from transform.domain.progress import Progress, compute_progress
from transform.domain.status import parse_status

if TYPE_CHECKING:
    from common.events.ingest import ProgressReported
    from transform.domain.routes import ProcessRoute
    from transform.service_layer.configuration import Configuration
    from transform.service_layer.ports import LineState, UnitOfWork


def progress_of(route: ProcessRoute, states: dict[str, ProcessState]) -> Progress:
    return _progress(route, tuple((p, s.effective) for p, s in states.items()))


# An import's lines repeat a few dozen combinations of route and status words; computing each line's progress
# afresh was a third of line_write (bench G4 profile, issue 12). Routes and Progress are frozen.
@lru_cache(maxsize=4096)
def _progress(route: ProcessRoute, words: tuple[tuple[str, str | None], ...]) -> Progress:
    return compute_progress(route, {p: parse_status(w) if w else None for p, w in words})


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


async def apply_reports(uow: UnitOfWork, changes: list[ReportChange], config: Configuration) -> None:
    """Reports keep their own version per (contract, line, process); older ones are superseded."""
    await uow.locks.contracts({c.event.contract_no for c in changes})  # the lines path takes the same locks
    for change in changes:
        # A report naming a process by an alias or a former name lands on the process (the catalogue's name).
        e = change.event.model_copy(update={"process": config.catalog.canonical(change.event.process)})
        change = ReportChange(e, change.occurred_at)  # the same report, its process resolved
        if not await uow.progress.save_report(e, change.received_at):
            continue
        for line in await uow.progress.lines_of(e.contract_no, e.product_id):
            route = config.catalog.routes[line.product_type]
            states = overlay(line.states, [_report(change)], line.product_id, route.seqs)
            if states == line.states:
                continue
            await _save(
                uow,
                line,
                list(states.values()),
                progress_of(route, states),
                e,
            )
    await uow.commit()


async def _save(
    uow: UnitOfWork, line: LineState, states: list[ProcessState], progress: Progress, e: ProgressReported
) -> None:
    """The line's new states and progress, and the feed item that announces them."""
    by, at = e.updated_by, e.update_time
    await uow.progress.save_progress(line, states, progress, by, at)
    item = FeedWrite(line.contract_no, line.product_id, progress.percentage, progress.current_process, at, by)
    await uow.feed.append([replace(item, processes=processes_view(states))])
