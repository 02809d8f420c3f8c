"""R2 (DELIVERY.md §12): writers commit or roll back outbox rows while the relay is SIGKILLed every 5 s and the
broker is down 30 s: every committed row is published, nothing from a rolled-back transaction, no row left unsent."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import subprocess
import time
import uuid

import asyncpg
import orjson
import pytest

from common import outbox
from common.kafka import ensure_topics
from common.replay import read_all
from common.settings import KafkaSettings
from tests.support.api import eventually
from tests.support.faults import SCENARIO_TIMEOUT_S, FaultInjector, figures, size
from tests.support.schemas import plumbing_schema
from tests.support.stack import KAFKA_BOOTSTRAP, PYTHON, ROOT, private_log

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SCENARIO_TIMEOUT_S)]
WRITES = size(5_000, 50_000, "ROLLSYNC_R2_WRITES")
WRITERS, ROLLBACK_RATE, BROKER_DOWN_S, KILL_EVERY_S = 5, 0.10, 30, 5
KAFKA = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP)


class RollbackOnPurposeError(Exception):
    """Raised inside a writer's transaction on purpose."""


class Relay:
    """The relay as its own process (tests/support/relay_main.py)."""

    def __init__(self, schema: str) -> None:
        self.schema, self.proc = schema, self._spawn(schema)

    @staticmethod
    def _spawn(schema: str) -> subprocess.Popen[bytes]:
        log = private_log("test-r2-relay.log")
        return subprocess.Popen(
            [PYTHON, "-m", "tests.support.relay_main", schema], cwd=ROOT, stdout=log, stderr=log
        )

    def kill_and_restart(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self.proc = self._spawn(self.schema)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


async def test_r2_relay_publishes_every_commit_and_nothing_rolled_back(fault_seed: int) -> None:
    faults = FaultInjector(fault_seed, {})
    topic = f"r2.outbox-{uuid.uuid4().hex[:8]}"
    await ensure_topics(KAFKA, [topic], with_dlq=False)
    committed: set[str] = set()
    rolled_back: set[str] = set()
    async with plumbing_schema() as (schema, pool):
        relay = Relay(schema)
        try:
            started = time.monotonic()
            writers = asyncio.gather(
                *(_writer(pool, schema, topic, w, faults, committed, rolled_back) for w in range(WRITERS))
            )
            recovered_s = await _faults(faults, relay, writers, started, pool)
            await writers
            recovered = time.monotonic()
            unsent = await eventually(lambda: _drained(pool), timeout_s=60, every_s=1)
            drained_s = time.monotonic() - recovered
        finally:
            relay.stop()
        seen = [d.headers.get("event_id", "") for d in await read_all(KAFKA, topic)]
    lost = committed - set(seen)
    phantom = set(seen) & rolled_back
    figures(
        "R2",
        {
            "seed": fault_seed,
            "writes committed / rolled back": f"{len(committed)} / {len(rolled_back)}",
            "faults": dict(faults.counts),
            "published (with duplicates)": len(seen),
            "duplicates (absorbed by inboxes)": len(seen) - len(set(seen)),
            "lost": len(lost),
            "from rolled-back transactions": len(phantom),
            "unsent rows after drain": unsent,
            "drain after last fault s": round(drained_s, 1),
            "outage backlog published by the surviving relay s": round(recovered_s, 1),
        },
    )
    assert not lost, (
        f"{faults.summary()}\n{len(lost)} committed rows never published, e.g. {sorted(lost)[:10]}"
    )
    assert not phantom, (
        f"{faults.summary()}\n{len(phantom)} rolled-back rows published: {sorted(phantom)[:10]}"
    )
    assert set(seen) == committed
    assert faults.counts["relay_sigkill"] >= 3 and faults.counts["broker_sigkill"] == 1


async def _writer(
    pool: asyncpg.Pool,
    schema: str,
    topic: str,
    w: int,
    faults: FaultInjector,
    committed: set[str],
    rolled_back: set[str],
) -> None:
    """WRITES/WRITERS transactions, each one outbox row; 10 % raise before COMMIT (their row must never leave)."""
    for i in range(WRITES // WRITERS):
        row_id = uuid.uuid4()
        payload = orjson.dumps({"writer": w, "n": i})
        row = outbox.OutboxRow(row_id, topic, f"k{i % 50}", payload, {"event_id": str(row_id)})
        doomed = faults.rng.random() < ROLLBACK_RATE
        with contextlib.suppress(RollbackOnPurposeError):
            async with pool.acquire() as conn, conn.transaction():
                await outbox.add(conn, schema, [row])
                if doomed:
                    raise RollbackOnPurposeError
        (rolled_back if doomed else committed).add(str(row_id))
        await asyncio.sleep(0.09)  # a steady ~50 writes/s, so the faults land in the middle of the stream


async def _faults(
    faults: FaultInjector,
    relay: Relay,
    writers: asyncio.Future[list[None]],
    started: float,
    pool: asyncpg.Pool,
) -> float:
    """SIGKILL the relay every 5 s while writers run; once, 10 s in, take the broker down for 30 s.

    The relay process that lives through the outage is not killed until it has published, unaided, every row
    written before the broker came back (aiokafka #1017: a stuck idempotent producer would never do so).
    Returns how long that took.
    """
    recovered_s = -1.0
    while not writers.done() or faults.counts["relay_sigkill"] < 3 or recovered_s < 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(writers), timeout=KILL_EVERY_S)
        relay.kill_and_restart()
        faults.counts["relay_sigkill"] += 1
        faults.last_fault_at = time.monotonic()
        if recovered_s < 0 and time.monotonic() - started > 10:
            await asyncio.sleep(3)  # let the fresh relay connect before the outage
            survivor = relay.proc.pid
            await faults.crash_broker(BROKER_DOWN_S)
            back = time.monotonic()
            await eventually(functools.partial(_sent_before, pool, back), timeout_s=60, every_s=0.5)
            recovered_s = time.monotonic() - back
            assert relay.proc.pid == survivor and relay.proc.poll() is None, (
                "the relay did not survive the outage"
            )
    return recovered_s


async def _sent_before(pool: asyncpg.Pool, back: float) -> bool:
    """Every row written before the broker came back (by the monotonic clock, mapped to the server's) is sent."""
    age = time.monotonic() - back
    unsent = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND created_at < now() - make_interval(secs => $1)",
        age,
    )
    return bool(unsent == 0)


async def _drained(pool: asyncpg.Pool) -> str | None:
    """Truthy once no row is unsent (rows in outbox_dead are not unsent, and are reported)."""
    unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    dead = await pool.fetchval("SELECT count(*) FROM outbox_dead")
    return f"0 unsent, {dead} in outbox_dead" if unsent == 0 else None
