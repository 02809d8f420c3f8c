"""The schedule follows the last recorded run, not the process start (issue 8, 5.6)."""

from __future__ import annotations

import asyncio

from erp_connector.service_layer.scheduler import Job, SyncScheduler


class Runs:
    """Job runs as the database would keep them."""

    def __init__(self, ago: dict[str, float], fail: bool = False) -> None:
        self.ago, self.fail, self.started_jobs = ago, fail, list[str]()

    async def seconds_since_last(self, jobs: list[str]) -> dict[str, float]:
        if self.fail:
            raise OSError("database away")
        return {j: self.ago[j] for j in jobs if j in self.ago}

    async def started(self, job: str) -> None:
        self.started_jobs.append(job)


async def _runs_within(runs: Runs, seconds: float, interval_s: float = 3600, on_start: bool = False) -> int:
    ran = asyncio.Event()

    async def run() -> None:
        ran.set()

    scheduler = SyncScheduler([Job("pull", interval_s, run, on_start)], lambda: True, runs)
    scheduler.start()
    try:
        async with asyncio.timeout(seconds):
            await ran.wait()
        return 1
    except TimeoutError:
        return 0
    finally:
        await scheduler.stop()


async def test_a_job_last_run_an_interval_ago_runs_at_once_after_a_restart() -> None:
    runs = Runs({"pull": 3700.0})
    assert await _runs_within(runs, 1.0) == 1
    assert runs.started_jobs == ["pull"]  # the run is recorded before it starts


async def test_a_job_that_ran_recently_waits_for_the_rest_of_its_interval() -> None:
    assert await _runs_within(Runs({"pull": 3599.5}), 2.0) == 1  # due in 0.5 s
    assert await _runs_within(Runs({"pull": 100.0}), 0.5) == 0  # due in ~58 min


async def test_run_on_start_still_runs_at_once_and_an_unreadable_record_falls_back_to_the_interval() -> None:
    assert await _runs_within(Runs({"pull": 0.0}), 1.0, on_start=True) == 1
    assert await _runs_within(Runs({}, fail=True), 0.5) == 0


async def test_one_direction_switched_off_never_runs_while_the_other_does() -> None:
    """Seed 004's erp_push.enabled: false with erp_pull.enabled: true: due, on start and triggered, only pull runs."""
    ran: list[str] = []
    pulled = asyncio.Event()

    async def pull() -> None:
        ran.append("pull")
        pulled.set()

    async def push() -> None:
        ran.append("push")

    scheduler = SyncScheduler(
        [Job("pull", 3600, pull, True), Job("push", 0.01, push, True, enabled=False)], lambda: True, Runs({})
    )
    scheduler.start()
    try:
        async with asyncio.timeout(5):
            await pulled.wait()
        assert scheduler.trigger(["pull", "push"])["push"] == "disabled"
        assert scheduler.snapshot()["push"]["enabled"] is False
        for _ in range(50):  # push is due every 10 ms: 50 loop turns give it every chance to run
            await asyncio.sleep(0.01)
    finally:
        await scheduler.stop()
    assert "push" not in ran
    assert ran.count("pull") >= 1
