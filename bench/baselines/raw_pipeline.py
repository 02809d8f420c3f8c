"""G5 baseline: aiokafka getmany → orjson → the same mapping → the same asyncpg statements, no framework."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.scratch import transform_schema
from common import inbox
from common.events.ingest import HetongRowChanged
from tests.support.stack import KAFKA_BOOTSTRAP
from transform.bootstrap import uow_factory, uow_on
from transform.service_layer.configuration import ConfigurationCache
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


async def run(topic: str, n: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Rows per second of `clock` (wall time; G9 passes CPU time) from the first processed record to the last
    commit."""
    async with transform_schema() as (_, pool):
        config = await ConfigurationCache(uow_factory(pool), 3600).get()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=KAFKA_BOOTSTRAP,
            group_id=f"raw-{uuid.uuid4().hex}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
        )
        await consumer.start()
        done, first = 0, 0.0
        try:
            while done < n:
                batches = await consumer.getmany(timeout_ms=1000, max_records=500)
                for tp, records in batches.items():
                    first = first or clock()
                    parsed = [decode_change(r.value) for r in records]
                    async with pool.acquire() as conn, conn.transaction():
                        fresh = await inbox.claim(conn, "raw", [i for i, _ in parsed])
                        await apply_lines(uow_on(conn), [c for i, c in parsed if i in fresh], config)
                    await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})
                    done += len(records)
            return n / (clock() - first)
        finally:
            await consumer.stop()
