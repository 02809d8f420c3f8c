"""Which status counts for a process when the local system and the mini-program both speak. Pure.

Each side's last word is kept with its time; the newer one counts. An upload that repeats the value it
sent before is not a new word (uploaded_at stays), so a stale local copy never undoes a worker's report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ProcessState:
    process: str
    seq: int
    uploaded_status: str | None = None
    uploaded_at: datetime | None = None
    reported_status: str | None = None
    reported_at: datetime | None = None
    reported_by: str | None = None

    @property
    def effective(self) -> str | None:
        if self.reported_at is None:
            return self.uploaded_status
        if self.uploaded_at is None or self.uploaded_status is None:
            return self.reported_status
        return self.reported_status if self.reported_at >= self.uploaded_at else self.uploaded_status


def after_upload(
    prev: ProcessState | None, process: str, seq: int, status: str | None, at: datetime
) -> ProcessState:
    if prev is None:
        return ProcessState(process, seq, status, at if status is not None else None)
    if prev.uploaded_status == status:
        return replace(prev, seq=seq)
    return replace(prev, seq=seq, uploaded_status=status, uploaded_at=at if status is not None else None)


def after_report(
    prev: ProcessState | None, process: str, seq: int, status: str, at: datetime, by: str
) -> ProcessState:
    base = prev or ProcessState(process, seq)
    return replace(base, reported_status=status, reported_at=at, reported_by=by)


@dataclass(frozen=True, slots=True)
class Report:
    """A worker's report as transform keeps it; product_id None means every line of the contract."""

    product_id: str | None
    process: str
    status: str
    update_time: datetime
    updated_by: str


def overlay(
    states: dict[str, ProcessState], reports: list[Report], product_id: str
) -> dict[str, ProcessState]:
    """Apply the reports that concern this line and are newer than what the line already holds."""
    merged = dict(states)
    for r in sorted(reports, key=lambda r: r.update_time):
        if r.product_id not in (None, product_id):
            continue
        prev = merged.get(r.process)
        if prev is None or prev.reported_at is None or r.update_time > prev.reported_at:
            seq = prev.seq if prev else 1000 + len(merged)
            merged[r.process] = after_report(prev, r.process, seq, r.status, r.update_time, r.updated_by)
    return merged
