"""transform's scheduled consistency check: findings per branch as a gauge, rounds that fail do not stop it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client import CollectorRegistry

from tests.support.api import eventually
from transform.service_layer.consistency_schedule import SAMPLE, ConsistencySchedule, findings_per_branch

REPORT: dict[str, Any] = {
    "reports_not_applied": [],
    "lines_dead_lettered": 2,
    "raw_missing_from_standard": [{"合同编号": "H1", "产品ID": "P1"}],
    "counts": {"raw_lines": 10},
    "lines_by_contract_status": {"(none)": 10},
}


def test_each_finding_branch_is_counted_and_totals_are_not_findings() -> None:
    assert findings_per_branch(REPORT) == {
        "reports_not_applied": 0,
        "lines_dead_lettered": 2,
        "raw_missing_from_standard": 1,
    }


async def test_the_schedule_exports_findings_and_survives_a_failed_round() -> None:
    calls: list[int] = []

    async def report(sample: int) -> dict[str, Any]:
        calls.append(sample)
        if len(calls) == 1:
            raise ConnectionResetError("database went away")
        return REPORT

    registry = CollectorRegistry()
    schedule = ConsistencySchedule(report, registry, interval_s=0.01)
    schedule.start()
    try:

        async def exported() -> bool:
            value = registry.get_sample_value(
                "rollsync_consistency_findings", {"branch": "lines_dead_lettered"}
            )
            return value == 2

        await eventually(exported, timeout_s=10, every_s=0.02)
    finally:
        await schedule.stop()
    assert calls[0] == SAMPLE
    assert (
        registry.get_sample_value("rollsync_consistency_findings", {"branch": "raw_missing_from_standard"})
        == 1
    )
    assert registry.get_sample_value("rollsync_consistency_findings", {"branch": "reports_not_applied"}) == 0
    assert (registry.get_sample_value("rollsync_consistency_checked_timestamp_seconds") or 0) > 0


async def test_the_first_check_waits_after_start_but_never_longer_than_the_interval() -> None:
    calls: list[float] = []

    async def report(sample: int) -> dict[str, Any]:
        calls.append(time.monotonic())
        return REPORT

    slow = ConsistencySchedule(report, CollectorRegistry(), interval_s=3600, first_after_s=0.3)
    started = time.monotonic()
    slow.start()
    try:
        await asyncio.sleep(0.1)
        assert calls == [], "the first check ran at start (a restarted service checks while it catches up)"
        await eventually(lambda: _true(bool(calls)), timeout_s=5, every_s=0.02)
        assert calls[0] - started >= 0.3
    finally:
        await slow.stop()
    capped = ConsistencySchedule(report, CollectorRegistry(), interval_s=0.05, first_after_s=3600)
    calls.clear()
    capped.start()
    try:
        await eventually(lambda: _true(len(calls) >= 2), timeout_s=5, every_s=0.02)
    finally:
        await capped.stop()


async def _true(value: bool) -> bool:
    return value
