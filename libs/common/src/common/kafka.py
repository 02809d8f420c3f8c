"""Kafka plumbing: a broker with safe delivery defaults, topic creation, inbox subscribers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from common.topics import dlq

if TYPE_CHECKING:
    from faststream.kafka import KafkaRouter

    from common.consumer import InboxConsumer
    from common.metrics import Metrics
    from common.settings import KafkaSettings

log = logging.getLogger(__name__)


def create_broker(kafka: KafkaSettings, client_id: str) -> KafkaBroker:
    """acks=all and idempotence set explicitly: aiokafka's defaults are acks=1, no idempotence."""
    return KafkaBroker(
        kafka.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        graceful_timeout=20.0,
        logger=logging.getLogger(f"faststream.{client_id}"),
    )


def inbox_subscriber_options(group_id: str, max_records: int) -> dict[str, Any]:
    """Manual ack after the DB commit, no auto-commit, `earliest` for new groups (DELIVERY.md §2)."""
    return {
        "group_id": group_id,
        "batch": True,
        "max_records": max_records,
        "batch_timeout_ms": 50,
        "ack_policy": AckPolicy.MANUAL,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 15_000,
        "heartbeat_interval_ms": 3_000,
        "max_poll_interval_ms": 300_000,
    }


def subscribe_inbox(
    router: KafkaRouter | KafkaBroker,
    topic: str,
    group_id: str,
    consumer: InboxConsumer,
    metrics: Metrics,
    *,
    max_records: int = 500,
) -> None:
    """Register a batch subscriber that hands raw records to `consumer`, then commits."""

    async def on_batch(_body: list[bytes], msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple) else (raw,)
        await consumer.handle(records)
        await msg.ack()
        _record_lag(msg, records, metrics)

    on_batch.__name__ = f"on_{topic.replace('.', '_').replace('-', '_')}"
    router.subscriber(topic, **inbox_subscriber_options(group_id, max_records))(on_batch)


def _record_lag(msg: KafkaMessage, records: Iterable[Any], metrics: Metrics) -> None:
    consumer = getattr(msg, "consumer", None)
    last: dict[TopicPartition, int] = {}
    for r in records:
        last[TopicPartition(r.topic, r.partition)] = r.offset
    for tp, offset in last.items():
        try:
            highwater = consumer.highwater(tp) if consumer is not None else None
        except (AssertionError, KeyError, AttributeError):
            highwater = None
        if highwater is not None:
            metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, highwater - offset - 1))


async def ensure_topics(kafka: KafkaSettings, topics: Iterable[str], *, with_dlq: bool = True) -> None:
    """Create topics (and their DLQs) explicitly; the broker never auto-creates them."""
    names = [t for topic in topics for t in ((topic, dlq(topic)) if with_dlq else (topic,))]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, client_id="rollsync-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        new = [NewTopic(n, kafka.partitions, kafka.replication_factor) for n in missing]
        response = await admin.create_topics(new)
        for name, code, message in getattr(response, "topic_errors", []):
            if code not in (0, TopicAlreadyExistsError.errno):
                raise RuntimeError(f"creating topic {name} failed: error {code} {message}")
        log.info("created topics %s", missing)
    finally:
        await admin.close()
