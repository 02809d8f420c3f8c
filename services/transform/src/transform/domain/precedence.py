"""Which status counts for a process when the local system and the mini-program both speak. Pure.

Each side's last word is kept with its time; the newer one counts. An upload that repeats the value it
sent before is not a new word (uploaded_at stays), so a stale local copy never undoes a worker's report.

Like with like (issue 8, defect 3): an upload is stamped with ingest's receive time, so a report is compared by
ingest's receive time too, never by the worker's own `update_time`. A phone whose clock runs ahead can then
neither beat later uploads nor reorder reports; `update_time` is kept only to show when the worker says it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class ProcessState:
    process: str
    seq: int
    uploaded_status: str | None = None
    uploaded_at: datetime | None = None
    reported_status: str | None = None
    reported_at: datetime | None = None
    reported_by: str | None = None
    uploaded_by: str | None = None
    report_received_at: datetime | None = None  # server time; rows from before it existed fall back
    # The report's: 'unknown' / 'inactive' reporter (ingest decides), else None.
    reporter_flag: str | None = None
    # The line's column for this process as the local system names it (an alias, a former name), when known.
    column: str | None = None

    @property
    def report_time(self) -> datetime | None:
        """When ingest received the report held here: the time the who-wins rule compares."""
        return self.report_received_at or self.reported_at

    @property
    def report_counts(self) -> bool:
        report = self.report_time
        if report is None:
            return False
        if self.uploaded_at is None or self.uploaded_status is None:
            return True
        return report >= self.uploaded_at

    @property
    def effective(self) -> str | None:
        return self.reported_status if self.report_counts else self.uploaded_status


def after_upload(
    prev: ProcessState | None,
    process: str,
    seq: int,
    status: str | None,
    at: datetime,
    by: str | None = None,
    column: str | None = None,
) -> ProcessState:
    stamp, who = (at, by) if status is not None else (None, None)
    if prev is None:
        return ProcessState(process, seq, status, stamp, uploaded_by=who, column=column)
    column = column or prev.column
    if prev.uploaded_status == status:
        return replace(prev, seq=seq, column=column)
    return replace(prev, seq=seq, uploaded_status=status, uploaded_at=stamp, uploaded_by=who, column=column)


def after_report(
    prev: ProcessState | None,
    process: str,
    seq: int,
    status: str,
    at: datetime,
    by: str,
    received_at: datetime | None = None,
    reporter_flag: str | None = None,
) -> ProcessState:
    base = prev or ProcessState(process, seq)
    return replace(
        base,
        reported_status=status,
        reported_at=at,
        reported_by=by,
        report_received_at=received_at or at,
        reporter_flag=reporter_flag,
    )


@dataclass(frozen=True, slots=True)
class Report:
    """A worker's report as transform keeps it; product_id None means every line of the contract."""

    product_id: str | None
    process: str
    status: str
    update_time: datetime
    updated_by: str
    received_at: datetime | None = None  # ingest's clock; None only for events from before it was sent
    reporter_flag: str | None = None

    @property
    def time(self) -> datetime:
        return self.received_at or self.update_time


def overlay(
    states: dict[str, ProcessState],
    reports: list[Report],
    product_id: str,
    seqs: Mapping[str, int] = MappingProxyType({}),
) -> dict[str, ProcessState]:
    """Apply the reports that concern this line and are newer than what the line already holds. A process the
    line holds no state for takes its place in the line's route (`seqs`), or comes after the route."""
    merged = dict(states)
    for r in sorted(reports, key=lambda r: r.time):
        if r.product_id not in (None, product_id):
            continue
        prev = merged.get(r.process)
        held = prev.report_time if prev else None
        if held is None or r.time > held:
            seq = prev.seq if prev else seqs.get(r.process, 1000 + len(merged))
            merged[r.process] = after_report(
                prev, r.process, seq, r.status, r.update_time, r.updated_by, r.received_at, r.reporter_flag
            )
    return merged
