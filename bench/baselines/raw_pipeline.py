"""G5 baseline: aiokafka getmany → orjson → the same mapping → the same asyncpg statements, no framework."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import IMPORT_BATCH
from bench.scratch import transform_schema
from common import inbox
from common.events.ingest import HetongRowChanged
from tests.support.stack import KAFKA_BOOTSTRAP
from transform.service_layer.lines import LineChange, apply_lines


def decode_change(value: bytes) -> tuple[uuid.UUID, LineChange]:
    envelope = orjson.loads(value)
    p = envelope["payload"]
    event = HetongRowChanged.model_construct(
        contract_no=p["contract_no"],
        product_id=p["product_id"],
        version=p["version"],
        content_hash=p["content_hash"],
        row=p["row"],
        source=p["source"],
        client_id=p["client_id"],
        received_at=datetime.fromisoformat(p["received_at"]),
    )
    return uuid.UUID(envelope["event_id"]), LineChange(event, envelope["correlation_id"])


@dataclass(frozen=True, slots=True)
class Rates:
    rows_per_s: float  # wall clock
    rows_per_cpu_s: float  # of `cpu_clock`; equal to rows_per_s when none is given


async def run(topic: str, n: int, cpu_clock: Callable[[], float] = time.perf_counter) -> Rates:
    """Rows per second of wall time and of `cpu_clock` (G9 passes CPU seconds of this process and PostgreSQL),
    both from the first processed record to the last commit."""
    async with transform_schema() as scratch:
        pool, config = scratch.pool, await scratch.configuration()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=KAFKA_BOOTSTRAP,
            group_id=f"raw-{uuid.uuid4().hex}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=IMPORT_BATCH,
        )
        await consumer.start()
        done, first, first_cpu = 0, 0.0, 0.0
        try:
            while done < n:
                batches = await consumer.getmany(timeout_ms=1000, max_records=IMPORT_BATCH)
                for tp, records in batches.items():
                    if not first:
                        first, first_cpu = time.perf_counter(), cpu_clock()
                    parsed = [decode_change(r.value) for r in records]
                    async with pool.acquire() as conn, conn.transaction():
                        fresh = await inbox.claim(conn, "raw", [i for i, _ in parsed])
                        await apply_lines(scratch.uow_on(conn), [c for i, c in parsed if i in fresh], config)
                    await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})
                    done += len(records)
            return Rates(n / (time.perf_counter() - first), n / (cpu_clock() - first_cpu))
        finally:
            await consumer.stop()
