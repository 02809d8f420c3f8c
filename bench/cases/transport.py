"""G1 (publish) and G2 (consume): our Kafka plumbing ÷ raw aiokafka on the same bytes, as interleaved pairs.

Since the outbox relay publishes and the inbox subscriber consumes, these measure exactly those layers, not a
FastStream call per row (which no hot path makes any more):

- G1: `OutboxRelay._publish` (the relay's producer, `safe_producer`: acks=all, idempotent, linger 0, 512 KB
  batches; per-row headers; every delivery future awaited) ÷ a raw `await send()` loop + gather, with the same
  producer settings, keys, headers and pre-encoded ≈2 KB envelopes. The relay's claim/mark round trips are
  PostgreSQL work and are measured by E2E and G5, not here.
- G2: `common.kafka.subscribe_inbox` (FastStream batch subscriber, max_records=500, manual commit of exactly the
  handled offsets) with a no-op handler, draining a pre-filled topic ÷ a raw `getmany` drain committing the same
  explicit offsets per batch. Fresh group per run, `earliest`; timed from the first record handed over to the
  last commit (group joins excluded, BENCHMARKS.md §3.4).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from bench.baselines.raw_produce import delete_topic, fresh_topic, produce
from bench.cases.transform_cpu import payloads
from bench.pairs import interleaved
from bench.stats import Goal, PairedRatio
from common.kafka import create_broker, subscribe_inbox
from common.metrics import Metrics
from common.outbox import OutboxRow
from common.relay import OutboxRelay, safe_producer
from common.settings import KafkaSettings
from tests.support.stack import KAFKA_BOOTSTRAP

G1 = Goal(
    "G1", "relay publish (safe producer, per-row send + await all) ÷ raw send loop", "msg/s", 0.85, 0.60
)
G2 = Goal("G2", "inbox batch subscriber, no-op handler ÷ raw getmany drain", "msg/s", 0.70, 0.40)


def _rows(n: int) -> list[OutboxRow]:
    return [
        OutboxRow(uuid.uuid4(), "", f"G1-{i:07d}/1", body, {"event_id": str(uuid.uuid4()), "event_type": "X"})
        for i, body in enumerate(payloads(n))
    ]


async def _ours_publish(topic: str, rows: list[OutboxRow]) -> float:
    relay = OutboxRelay(None, None, KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP), "bench")  # type: ignore[arg-type]
    relay._producer = safe_producer(KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP), "bench-g1")
    await relay._producer.start()
    try:
        mine = [OutboxRow(r.id, topic, r.key, r.payload, r.headers) for r in rows]
        started = time.perf_counter()
        await relay._publish(mine)
        return len(rows) / (time.perf_counter() - started)
    finally:
        await relay._producer.stop()


async def _raw_publish(topic: str, rows: list[OutboxRow]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA_BOOTSTRAP,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        max_batch_size=512 * 1024,
        max_request_size=2 * 1024 * 1024,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(
                topic, r.payload, key=r.key.encode(), headers=[(k, v.encode()) for k, v in r.headers.items()]
            )
            for r in rows
        ]
        await asyncio.gather(*futures)
        return len(rows) / (time.perf_counter() - started)
    finally:
        await producer.stop()


PARTITIONS = 3


async def g1(pairs: int, n: int = 10_000) -> PairedRatio:
    rows = _rows(n)
    topic = await fresh_topic(PARTITIONS)
    try:
        return await interleaved(
            G1,
            lambda: _ours_publish(topic, rows),
            lambda: _raw_publish(topic, rows),
            pairs,
            notes=f"{n} pre-encoded ≈2 KB envelopes per side per pair, 3 partitions, acks=all, idempotent",
        )
    finally:
        await delete_topic(topic)


class _Count:
    """A no-op BatchHandler: counts records and notes when the first arrived."""

    def __init__(self) -> None:
        self.seen, self.first = 0, 0.0

    async def handle(self, records: Sequence[Any]) -> None:
        self.first = self.first or time.perf_counter()
        self.seen += len(records)


async def _ours_drain(topic: str, n: int) -> float:
    for noisy in (
        "aiokafka",
        "faststream",
    ):  # as common.logs sets them in the services: no log line per batch
        logging.getLogger(noisy).setLevel(logging.WARNING)
    broker = create_broker(KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP), "bench-g2")
    counter, group = _Count(), f"bench-g2-{uuid.uuid4().hex}"
    subscribe_inbox(broker, topic, group, counter, Metrics("bench"), max_records=500)
    await broker.start()
    # The subscriber commits after handle() returns: the run ends when the group's committed offsets reach n.
    probe = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        while counter.seen < n:
            await asyncio.sleep(0.002)
        while sum([(await probe.committed(tp)) or 0 for tp in parts]) < n:
            await asyncio.sleep(0.002)
        return n / (time.perf_counter() - counter.first)
    finally:
        await probe.stop()
        await broker.stop()


async def _raw_drain(topic: str, n: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA_BOOTSTRAP,
        group_id=f"raw-g2-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        seen, first = 0, 0.0
        while seen < n:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=500)).items():
                first = first or time.perf_counter()
                await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})
                seen += len(records)
        return n / (time.perf_counter() - first)
    finally:
        await consumer.stop()


async def g2(pairs: int, n: int = 20_000) -> PairedRatio:
    topic = await fresh_topic(PARTITIONS)
    try:
        await produce(topic, [(f"k{i}".encode(), body) for i, body in enumerate(payloads(n))])
        return await interleaved(
            G2,
            lambda: _ours_drain(topic, n),
            lambda: _raw_drain(topic, n),
            pairs,
            notes=f"{n} ≈2 KB records pre-filled, 3 partitions, fresh group per run, max_records=500",
        )
    finally:
        await delete_topic(topic)
