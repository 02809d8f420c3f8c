"""When things run: pull hourly, push every 30 min; triggers run them at once (retention: common.retention).

The next run is due one interval after the last one recorded in the database (any replica, any
process), not after this process started: a pod restarted more often than the interval still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class NotRunningError(Exception):
    """A trigger while the connector is paused or stopped on credentials."""


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval_s: float
    run: Callable[[], Awaitable[Any]]
    on_start: bool
    needs_running: bool = True  # skipped while paused or stopped (pruning is not)
    enabled: bool = (
        True  # seed 004's erp_pull.enabled / erp_push.enabled: off = never runs, not even triggered
    )


class JobRuns(Protocol):
    """Where the last start of each job is kept (adapters.job_runs)."""

    async def seconds_since_last(self, jobs: list[str]) -> dict[str, float]: ...

    async def started(self, job: str) -> None: ...


class SyncScheduler:
    def __init__(self, jobs: list[Job], is_running: Callable[[], bool], runs: JobRuns | None = None) -> None:
        self._jobs = {job.name: job for job in jobs}
        self._is_running, self._runs = is_running, runs
        self._wake = {name: asyncio.Event() for name in self._jobs}
        self._busy = dict.fromkeys(self._jobs, False)
        self._next_at = dict.fromkeys(self._jobs, 0.0)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for job in self._jobs.values():
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"erp-{job.name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def trigger(self, names: list[str]) -> dict[str, str]:
        """Run now; a job already running runs once more right after. Returns what each got."""
        if not self._is_running():
            raise NotRunningError
        answer = {}
        for name in names:
            if not self._jobs[name].enabled:
                answer[name] = "disabled"
                continue
            answer[name] = "queued_after_current_run" if self._busy[name] else "started"
            self._wake[name].set()
        return answer

    def snapshot(self) -> dict[str, Any]:
        now, wall = time.monotonic(), time.time()
        return {
            name: {"running": self._busy[name], "enabled": self._jobs[name].enabled}
            | {"next_in_s": round(max(0.0, self._next_at[name] - now), 1)}
            | {"next_at_epoch": round(wall + max(0.0, self._next_at[name] - now), 3)}
            for name in self._jobs
        }

    async def _first_due_in(self, job: Job) -> float:
        if job.on_start:
            return 0.0
        if self._runs is None:
            return job.interval_s
        try:
            ago = (await self._runs.seconds_since_last([job.name])).get(job.name, 0.0)
        except Exception:  # the database is away: the plain interval, as before
            extra = {"job": job.name, "next_in_s": job.interval_s}
            log.warning("erp job: last run unknown; next in one interval", extra=extra, exc_info=True)
            return job.interval_s
        return max(0.0, job.interval_s - ago)

    async def _record_start(self, job: Job) -> None:
        if self._runs is not None:
            try:
                await self._runs.started(job.name)
            except Exception:  # not recording a run must not stop it
                log.warning(
                    "erp job: could not record the run's start", extra={"job": job.name}, exc_info=True
                )

    async def _loop(self, job: Job) -> None:
        self._next_at[job.name] = time.monotonic() + await self._first_due_in(job)
        wake = self._wake[job.name]
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that races a wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, self._next_at[job.name] - time.monotonic())):
                    await wake.wait()
            wake.clear()
            self._next_at[job.name] = time.monotonic() + job.interval_s
            if not job.enabled or (job.needs_running and not self._is_running()):
                continue
            self._busy[job.name] = True
            try:
                await self._record_start(job)
                await job.run()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed run is logged and recorded; the schedule goes on
                log.exception("erp job run failed", extra={"job": job.name})
            finally:
                self._busy[job.name] = False
