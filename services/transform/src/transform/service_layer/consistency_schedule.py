"""The consistency report on a schedule (issue 11): findings per branch as a gauge, for RollsyncConsistencyFindings.

Runs the same queries as GET /reports/consistency every TRANSFORM_CONSISTENCY_CHECK_S (default hourly, the first
TRANSFORM_CONSISTENCY_FIRST_CHECK_S after start, default 5 min, never later than the interval) and sets
rollsync_consistency_findings{branch}. List branches are sampled: a count is at most SAMPLE (the alert only asks
"any?"; the report lists them). A failed round keeps the previous values and is logged; the next round retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger(__name__)
SAMPLE = 1000
COUNTED = ("counts", "lines_by_contract_status")  # totals, not findings


def findings_per_branch(report: dict[str, Any]) -> dict[str, int]:
    """Each branch of the report that lists problems (or counts them) -> how many it found."""
    found: dict[str, int] = {}
    for branch, value in report.items():
        if branch in COUNTED:
            continue
        if isinstance(value, list):
            found[branch] = len(value)
        elif isinstance(value, int):
            found[branch] = value
    return found


class ConsistencySchedule:
    def __init__(
        self,
        report: Callable[[int], Awaitable[dict[str, Any]]],
        registry: CollectorRegistry,
        interval_s: float,
        first_after_s: float = 0.0,
    ) -> None:
        self._report, self._interval = report, interval_s
        # The check reads whole tables (seconds of database CPU on a large one): not at the very moment a
        # restarted service catches up on its backlog, and not once per restart of a crash loop.
        self._first_after = min(first_after_s, interval_s)
        self._findings = Gauge(
            "rollsync_consistency_findings",
            "Findings of the last scheduled consistency check, per report branch",
            ["branch"],
            registry=registry,
        )
        self._checked = Gauge(
            "rollsync_consistency_checked_timestamp_seconds",
            "When the scheduled consistency check last completed",
            registry=registry,
        )
        self._task: asyncio.Task[None] | None = None

    async def check_once(self) -> dict[str, int]:
        found = findings_per_branch(await self._report(SAMPLE))
        for branch, n in found.items():
            self._findings.labels(branch).set(n)
        self._checked.set(time.time())
        return found

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="consistency-schedule")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await asyncio.sleep(self._first_after)
        while True:
            try:
                found = await self.check_once()
                if any(found.values()):
                    log.warning("consistency check: findings %s", {b: n for b, n in found.items() if n})
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the last values; the next round tries again
                log.warning("consistency check: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._interval)
