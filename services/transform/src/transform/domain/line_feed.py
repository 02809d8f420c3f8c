"""What the pending-updates feed says about a line, and when a line write owes it an item. Pure.

An item carries the line's full effective state per process (issue 9): the factory's agent writes it into its
local process columns, so it is never a diff. The lines path owes the feed an item when it applies a report
the line did not hold yet (the report arrived before its line: issue 8, defect 2), when a line is deleted, and
when a deleted line comes back. The local system's own uploads are otherwise not echoed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from transform.domain.cursor import Position
from transform.domain.precedence import ProcessState

ProcessView = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class FeedNote:
    """Who and when the item names: the report that caused it, or the upload that deleted/restored the line."""

    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeedWrite:
    """One item appended to the pending-updates feed."""

    contract_no: str
    product_id: str
    progress_percentage: Decimal
    current_process: str | None
    updated_at: datetime
    updated_by: str
    deleted: bool = False
    processes: dict[str, Any] = field(default_factory=dict)  # full effective state, never a diff


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item read back from the feed, at its position."""

    position: Position
    contract_no: str
    product_id: str
    progress_percentage: Decimal
    current_process: str | None
    updated_at: datetime
    updated_by: str
    deleted: bool
    processes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Horizon:
    """What retention has pruned: the highest position and the latest change time among pruned rows."""

    position: Position
    latest_at: datetime


def iso_utc(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def processes_view(states: Iterable[ProcessState]) -> dict[str, ProcessView]:
    """Every process that has a status after the who-wins rule, with who set it, when, and from where."""
    out: dict[str, ProcessView] = {}
    for s in sorted(states, key=lambda s: (s.seq, s.process)):
        if s.effective is None:
            continue
        if s.report_counts:
            out[s.process] = _view(s.effective, s.reported_by, s.reported_at, "report")
        else:
            out[s.process] = _view(s.effective, s.uploaded_by, s.uploaded_at, "upload")
        if s.column is not None and s.column != s.process:
            # The line names this process otherwise (an alias, a former name): the agent writes that column.
            out[s.process]["column"] = s.column
    return out


def _view(status: str, by: str | None, at: datetime | None, source: str) -> ProcessView:
    return {"status": status, "updated_by": by, "updated_at": iso_utc(at), "source": source}


def newest_new_report(
    prior: Mapping[str, ProcessState], states: Mapping[str, ProcessState]
) -> FeedNote | None:
    """The newest report this write holds that the line did not hold before, as the item's who/when."""
    fresh = [
        s
        for p, s in states.items()
        if s.report_time is not None
        and (
            p not in prior
            or (prior[p].report_time, prior[p].reported_status) != (s.report_time, s.reported_status)
        )
    ]
    if not fresh:
        return None
    # The item names the latest update_time it announces: every report in it is then at or before updated_at.
    newest = max(fresh, key=lambda s: (s.reported_at, s.process))
    if newest.reported_by is None or newest.reported_at is None:  # a report always has both
        return None
    return FeedNote(newest.reported_by, newest.reported_at)
