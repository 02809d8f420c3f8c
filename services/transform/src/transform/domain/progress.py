"""Progress of one roll along its route, derived from the per-process statuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from transform.domain.routes import ProcessRoute, ProcessStep
from transform.domain.status import ProcessStatus

# A status column the chosen route does not list still counts, with this weight, after the
# route's own steps: a wrong 产品类型 or a new process must not make reported work vanish.
EXTRA_STEP_WEIGHT = Decimal(1)
_ONE_DECIMAL = Decimal("0.1")
_LAST_TENTH = Decimal("99.9")
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Progress:
    percentage: Decimal
    current_process: str | None
    finished: bool


def compute_progress(route: ProcessRoute, statuses: Mapping[str, ProcessStatus | None]) -> Progress:
    """Finished weight ÷ applicable weight × 100; current = first applicable step not done."""
    steps = _applicable_steps(route, statuses)
    pending = [step for step in steps if statuses.get(step.name) is not ProcessStatus.DONE]
    scrapped = [step for step in steps if statuses.get(step.name) is ProcessStatus.SCRAPPED]
    current = next(iter(scrapped or pending), None)
    return Progress(
        percentage=_percentage(steps, pending),
        current_process=None if current is None else current.name,
        finished=not pending,
    )


def _applicable_steps(route: ProcessRoute, statuses: Mapping[str, ProcessStatus | None]) -> list[ProcessStep]:
    # NULL means "this roll does not go through that step", except on a row where nothing has
    # been reported yet: then the whole route lies ahead.
    steps = [*route.steps, *_extra_steps(route, statuses)]
    reported = [step for step in steps if statuses.get(step.name) is not None]
    return reported or list(route.steps)


def _extra_steps(route: ProcessRoute, statuses: Mapping[str, ProcessStatus | None]) -> list[ProcessStep]:
    known = set(route.step_names)
    # Sorted by name so that the result does not depend on the order of the columns.
    extra = sorted(name for name, status in statuses.items() if status is not None and name not in known)
    last = route.steps[-1].seq
    return [ProcessStep(name, last + i, EXTRA_STEP_WEIGHT) for i, name in enumerate(extra, 1)]


def _percentage(steps: Sequence[ProcessStep], pending: Sequence[ProcessStep]) -> Decimal:
    total = sum((step.weight for step in steps), Decimal(0))
    done = total - sum((step.weight for step in pending), Decimal(0))
    percentage = (done / total * _HUNDRED).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)
    # 99.96 % must not read as 100.0 while a step is still open.
    return min(percentage, _LAST_TENTH) if pending else percentage
