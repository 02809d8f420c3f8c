"""Issue 8 (5.5, 5.6) with real processes, Kafka, PostgreSQL and the simulator: a replayed dead letter
is pushed again (once), and restarts more frequent than the interval do not starve the schedule."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from common import topics
from common.replay import read_all
from common.settings import KafkaSettings
from tests.erp_connector.harness import company
from tests.erp_connector.stack_helpers import (
    Simulator,
    completions,
    metric,
    publish,
    start_connector,
    sync_command,
)
from tests.support.api import eventually
from tests.support.stack import KAFKA_BOOTSTRAP, PYTHON, ROOT, ServiceProcess

pytestmark = pytest.mark.e2e
DLQ = topics.dlq(topics.RULES_CUSTOMER_SYNC_REQUESTED)
DUPLICATES = f'rollsync_events_duplicate_total{{topic="{topics.RULES_CUSTOMER_SYNC_REQUESTED}"}}'


@pytest.fixture(scope="module")
def swapped(services: dict[str, ServiceProcess]) -> Iterator[None]:
    """The stack's connector is stopped for this module; it comes back after."""
    services["erp-connector"].stop()
    try:
        yield
    finally:
        services["erp-connector"].start()


@pytest.fixture
def connector(swapped: None) -> Iterator[dict[str, ServiceProcess | None]]:
    """Each test starts its own connector processes here; whatever is still running is stopped after."""
    procs: dict[str, ServiceProcess | None] = {"current": None}
    try:
        yield procs
    finally:
        if procs["current"] is not None:
            procs["current"].stop()


@pytest.fixture
async def sim(services: dict[str, ServiceProcess], http: httpx.AsyncClient) -> Any:
    simulator = Simulator(http, services["erp-simulator"].url)
    await simulator.quiet()
    yield simulator
    await simulator.quiet()


def replay(*args: str) -> str:
    """The replay tool is a command-line program: run it as one (blocking is intended)."""
    tool = [PYTHON, "-m", "common.replay", DLQ, "--bootstrap", KAFKA_BOOTSTRAP, *args, "--apply"]
    return subprocess.run(tool, capture_output=True, text=True, cwd=ROOT, check=True, timeout=60).stdout


async def test_a_replayed_dead_letter_is_pushed_again_and_lands_once(
    connector: dict[str, ServiceProcess | None],
    sim: Simulator,
    admin: asyncpg.Connection,
    http: httpx.AsyncClient,
) -> None:
    proc = connector["current"] = start_connector(
        ERP_CONNECTOR_PUSH__INTERVAL_S="1", ERP_CONNECTOR_PUSH__MAX_ATTEMPTS="2"
    )
    run = uuid.uuid4().hex[:6].upper()
    cid, code = f"replay-{run}", f"KH-R{run}"
    await sim.faults(silent_drop_rate=1.0)  # the ERP answers OK and stores nothing: 2 saves, then dead
    await publish([(cid, *sync_command(cid, code, company(1, name=f"重放{run}彩印有限公司")))])

    async def queue_status() -> Any:
        return await admin.fetchval("SELECT status FROM erp.erp_push_queue WHERE customer_id = $1", cid)

    await eventually(lambda: _is(queue_status, "dead"), timeout_s=60)
    kafka = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP)
    letters = await eventually(
        lambda: _letters(kafka, cid), timeout_s=60
    )  # the relay has published the dead letter
    assert letters[0]["dlq-error-class"] == "WriteNotPersistedError" and letters[0]["dlq-attempts"] == "2"

    await sim.quiet()  # the ERP is fixed
    assert "replayed 1 of 1" in replay("--key", cid)
    await eventually(lambda: _is(queue_status, "synced"), timeout_s=60)

    stored = [c for c in await sim.customers() if c["khid"] == code]
    assert len(stored) == 1 and stored[0]["save_count"] == 1, stored  # in the ERP exactly once
    done = await completions({cid})
    assert (done[cid]["result"], done[cid]["erp_id"]) == ("synced", stored[0]["ord"])
    outcome = await admin.fetchval("SELECT outcome FROM erp.erp_push_requests WHERE customer_id = $1", cid)
    assert outcome == "synced"

    absorbed = await metric(http, proc.url, DUPLICATES) or 0.0
    assert "replayed 1 of 1" in replay("--key", cid)  # a second replay is harmless
    await eventually(
        lambda: _above(metric(http, proc.url, DUPLICATES), absorbed), timeout_s=30
    )  # the inbox absorbed it
    await asyncio.sleep(1.5)  # one more push interval: nothing may be sent
    again = [c for c in await sim.customers() if c["khid"] == code]
    assert [(c["ord"], c["save_count"]) for c in again] == [(stored[0]["ord"], 1)]
    assert await queue_status() == "synced"


async def _is(probe: Any, expected: str) -> bool:
    return bool(await probe() == expected)


async def _above(value: Any, floor: float) -> bool:
    return bool((await value or 0.0) > floor)


async def _letters(kafka: KafkaSettings, key: str) -> list[dict[str, str]]:
    return [d.headers for d in await read_all(kafka, DLQ) if d.key == key.encode()]


INTERVAL_S = 8.0  # pull and push interval in this test
UP_S = 3.0  # each process lives about this long after it is ready: always less than the interval
RESTARTS = 5


async def test_restarts_more_often_than_the_interval_still_pull_and_push_on_schedule(
    connector: dict[str, ServiceProcess | None],
    sim: Simulator,
    admin: asyncpg.Connection,
) -> None:
    run = uuid.uuid4().hex[:6].upper()
    cid, code = f"sched-{run}", f"KH-S{run}"
    env = {
        "ERP_CONNECTOR_PULL__INTERVAL_S": str(INTERVAL_S),
        "ERP_CONNECTOR_PUSH__INTERVAL_S": str(INTERVAL_S),
        "ERP_CONNECTOR_RUN_ON_START": "false",
    }
    since = await admin.fetchval("SELECT now()")
    started = time.monotonic()
    for restarts in range(RESTARTS):
        proc = connector["current"] = start_connector(**env)
        if restarts == 0:  # queued by the first process; only a scheduled push can send it
            await publish([(cid, *sync_command(cid, code, company(2, name=f"重启{run}彩印有限公司")))])
        await asyncio.sleep(UP_S)
        assert proc.proc is not None and proc.proc.poll() is None  # this process served, no stale one
        proc.stop()  # SIGTERM, as a pod restart
        connector["current"] = None
    elapsed = time.monotonic() - started

    pulls = await admin.fetchval(
        "SELECT count(*) FROM erp.erp_sync_logs WHERE sync_type = 'pull' AND synced_at > $1", since
    )
    assert pulls >= 2, (pulls, RESTARTS, round(elapsed, 1))
    assert pulls <= elapsed // INTERVAL_S + 1, (pulls, RESTARTS, round(elapsed, 1))  # never more often
    status = await admin.fetchval("SELECT status FROM erp.erp_push_queue WHERE customer_id = $1", cid)
    assert status == "synced", (status, RESTARTS, round(elapsed, 1))
    assert len([c for c in await sim.customers() if c["khid"] == code]) == 1
