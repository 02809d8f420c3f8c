"""A client folding the feed in order ends on each line's current state, even when the two transform
consumers race for one contract (the writer that took its xid first may commit second).

The progress consumer runs through the real InboxConsumer (inbox row, contract lock, feed row) while a second
writer already holds the contract's lock, as the lines or the other progress process would. Once the consumer
waits on that lock, the second writer commits an older state of the line; the consumer then commits the newer
one. Folding the feed (`processes`, per line, in feed order) must give the state the tables hold.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from common import topics
from common.consumer import InboxConsumer
from common.events.envelope import Envelope
from common.events.ingest import HetongRowChanged, ProgressReported
from common.metrics import Metrics
from common.received import envelope_decoder
from common.settings import RetrySettings
from tests.support.schemas import scratch_schema
from tests.transform.fakes import report_event
from transform.adapters.feed import read_after
from transform.adapters.locks import PostgresLocks, lock_contracts
from transform.adapters.progress_repository import lines_of
from transform.bootstrap import locks_on, uow_factory, uow_on
from transform.domain.cursor import START
from transform.domain.line_feed import processes_view
from transform.entrypoints.kafka import contracts_locked_first, on_progress_reported
from transform.service_layer.configuration import ConfigurationCache
from transform.service_layer.lines import LineChange, apply_lines
from transform.service_layer.ordering import lock_before_first_write
from transform.service_layer.progress import ReportChange, apply_reports

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "transform" / "migrations"
FAST = RetrySettings(max_attempts=3, base_delay_s=0.001, max_delay_s=0.01)
T0 = datetime.now(UTC) - timedelta(minutes=10)
ANILOX = {"产品名称": "陶瓷网纹辊", "基辊加工": "已完成", "喷砂": "进行中", "热喷涂": "未开始"}


@dataclass
class Record:
    value: bytes
    offset: int = 0
    topic: str = topics.INGEST_PROGRESS_REPORTED
    partition: int = 0
    key: bytes | None = b"k"
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [("event_id", self.event_id.encode())]


async def _seed_line(pool: asyncpg.Pool, config: ConfigurationCache, c: str) -> None:
    line = HetongRowChanged(
        contract_no=c,
        product_id="P1",
        version=1,
        content_hash="h",
        row={"合同编号": c, "产品ID": "P1", **ANILOX},
        source="local_system",
        client_id="agent",
        received_at=T0,
    )
    async with pool.acquire() as conn, conn.transaction():
        await apply_lines(uow_on(conn), [LineChange(line, "seed")], await config.get())


def _record(report: ProgressReported) -> Record:
    envelope = Envelope[ProgressReported](
        event_type="ProgressReported", source="ingest", correlation_id="r", payload=report
    )
    return Record(envelope.model_dump_json().encode())


def _consumer(pool: asyncpg.Pool, schema: str, config: ConfigurationCache) -> InboxConsumer:
    """Wired as transform's main wires its progress consumer."""
    return InboxConsumer(
        pool,
        schema,
        "transform-progress",
        on_progress_reported(config, uow_on),
        FAST,
        Metrics("test"),
        before_inbox=contracts_locked_first(locks_on),
        decode=envelope_decoder(ProgressReported),
    )


async def _waiting_on_a_lock(pool: asyncpg.Pool, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await pool.fetchval(
            "SELECT exists(SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)"
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the consumer never waited on the contract lock")


async def _folded(conn: asyncpg.Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """What a client holds after applying every page in order: each item's full state replaces the last."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    position = START
    while page := await read_after(conn, position, 1):
        state[(page[0].contract_no, page[0].product_id)] = page[0].processes
        position = page[-1].position
    return state


async def test_a_report_waiting_on_the_contract_lock_is_not_overtaken_in_the_feed_by_an_older_state() -> None:
    c = f"FO{uuid.uuid4().hex[:8]}"
    async with scratch_schema(MIGRATIONS, prefix="tfo") as (schema, pool):
        config = ConfigurationCache(uow_factory(pool), 3600)
        await config.seed_defaults()
        await _seed_line(pool, config, c)
        newer = report_event(c, "热喷涂", by="worker_zhang", at=T0 + timedelta(minutes=2))
        consumer = _consumer(pool, schema, config)
        async with pool.acquire() as other:
            tx = other.transaction()
            await tx.start()
            await lock_contracts(other, [c])  # the other consumer is inside its transaction for this contract
            reporting = asyncio.create_task(consumer.handle([_record(newer)]))
            await _waiting_on_a_lock(pool)
            older = report_event(c, "喷砂", by="worker_li", at=T0 + timedelta(minutes=1))
            await apply_reports(uow_on(other), [ReportChange(older, older.update_time)], await config.get())
            await tx.commit()
        await asyncio.wait_for(reporting, 30)

        async with pool.acquire() as conn:
            folded = await _folded(conn)
            (line,) = await lines_of(conn, c, "P1")
        current = processes_view(list(line.states.values()))
        assert current["热喷涂"]["updated_by"] == "worker_zhang"  # both reports are applied in the tables
        assert current["喷砂"]["updated_by"] == "worker_li"
        assert folded[(c, "P1")] == current


PROCESSES = ("动平衡", "喷砂", "热喷涂", "陶瓷磨削", "抛光", "雕刻")
CONSUMERS, BATCHES, ROUNDS = 6, 12, 4


async def _round(pool: asyncpg.Pool, schema: str, config: ConfigurationCache, rng: random.Random) -> None:
    contracts = [f"FO{uuid.uuid4().hex[:6]}-{i}" for i in range(4)]
    versions = itertools.count(1)
    for c in contracts:
        await _seed_line(pool, config, c)

    async def consume(n: int) -> None:
        consumer = _consumer(pool, schema, config)
        for _ in range(BATCHES):
            batch = []
            for c in rng.sample(contracts, 3):
                v = next(versions)
                at = T0 + timedelta(seconds=v)
                status = rng.choice(("进行中", "已完成"))
                batch.append(report_event(c, rng.choice(PROCESSES), status, by=f"w{n}", at=at, version=v))
            await consumer.handle([_record(r) for r in batch])

    await asyncio.wait_for(asyncio.gather(*(consume(n) for n in range(CONSUMERS))), 120)
    async with pool.acquire() as conn:
        folded = await _folded(conn)
        current = {
            (c, "P1"): processes_view(list(line.states.values()))
            for c in contracts
            for line in await lines_of(conn, c, "P1")
        }
    assert {k: folded[k] for k in current} == current


async def test_concurrent_batches_over_overlapping_contracts_fold_to_every_lines_current_state() -> None:
    """Many batches at once, each naming several contracts: every lock wait happens with no xid held.
    Without the locks-first hook it found the inversion in 3 runs of 4 (ROUNDS rounds each): the deterministic
    test above is the proof, this one guards the design under real concurrency."""
    rng = random.Random(11)
    async with scratch_schema(MIGRATIONS, prefix="tfo", max_size=CONSUMERS + 2) as (schema, pool):
        config = ConfigurationCache(uow_factory(pool), 3600)
        await config.seed_defaults()
        for _ in range(ROUNDS):
            await _round(pool, schema, config, rng)


async def test_locking_after_the_transaction_has_written_is_refused() -> None:
    """The order argument needs the locks before the xid: a miswired caller fails loudly, not silently."""
    async with scratch_schema(MIGRATIONS, prefix="tfo") as (_, pool), pool.acquire() as conn:
        async with conn.transaction():
            await lock_before_first_write(PostgresLocks(conn), ["HT1"])  # nothing written yet: fine
        with pytest.raises(RuntimeError, match="before the transaction's first write"):
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO line_receipts (contract_no, product_id, version, deleted)"
                    " VALUES ('HT1', 'P1', 1, false)"
                )
                await lock_before_first_write(PostgresLocks(conn), ["HT1"])
