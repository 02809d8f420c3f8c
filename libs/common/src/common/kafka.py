"""Kafka plumbing: a broker with safe delivery defaults, topic creation, inbox subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import IllegalStateError, KafkaError, TopicAlreadyExistsError
from aiokafka.structs import TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from common.consumer import ConsumerStoppingError
from common.topics import dlq

if TYPE_CHECKING:
    from faststream.kafka import KafkaRouter

    from common.delivery import Record
    from common.metrics import Metrics
    from common.settings import KafkaSettings

log = logging.getLogger(__name__)
# How long a stopping subscriber waits for its batch in flight (and its ack); then the handler is cancelled
# and the batch, unacknowledged, comes back after the restart. Part of common.runner's shutdown budget.
CONSUMER_DRAIN_S = 10.0


def create_broker(kafka: KafkaSettings, client_id: str) -> KafkaBroker:
    """acks=all and idempotence set explicitly: aiokafka's defaults are acks=1, no idempotence."""
    return KafkaBroker(
        kafka.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        graceful_timeout=CONSUMER_DRAIN_S,
        logger=logging.getLogger(f"faststream.{client_id}"),
    )


async def _undecoded(msg: StreamMessage[Any]) -> Any:
    """The batch's values as they came: the inbox consumer decodes (and dead-letters) them itself.

    faststream's own decoder json-decoded every record first, a second time (4 % of transform's CPU on an
    import), and raised outside the inbox on a record labelled `application/json` that is not JSON."""
    return msg.body


def inbox_subscriber_options(group_id: str, max_records: int) -> dict[str, Any]:
    """Manual ack after the DB commit, no auto-commit, `earliest` for new groups (DELIVERY.md §2)."""
    return {
        "decoder": _undecoded,
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


class BatchHandler(Protocol):
    async def handle(self, records: Sequence[Record]) -> None: ...


def subscribe_inbox(
    router: KafkaRouter | KafkaBroker,
    topic: str,
    group_id: str,
    consumer: BatchHandler,
    metrics: Metrics,
    *,
    max_records: int = 500,
) -> None:
    """Register a batch subscriber that hands raw records to `consumer`, then commits exactly them.

    Under AckPolicy.MANUAL faststream neither acks nor nacks a batch whose handler raised, and the
    consumer's position is already past it: the next batch's commit would cover it (faststream #2618).
    So a batch that was not handled is rewound here and read again; never acked past.
    """
    failures = 0

    async def on_batch(_body: list[bytes], msg: KafkaMessage) -> None:
        nonlocal failures
        raw = msg.raw_message
        records: tuple[Any, ...] = tuple(raw) if isinstance(raw, (tuple, list)) else (raw,)  # list: in memory
        try:
            await consumer.handle(records)
        except BaseException as exc:
            _rewind(msg, records)
            if isinstance(exc, ConsumerStoppingError):
                await asyncio.sleep(0.1)  # the subscriber is being stopped too; do not spin meanwhile
                return  # left unacknowledged: redelivered after the restart
            if not isinstance(exc, Exception):
                raise  # cancelled: the rewind is done, let it through
            failures += 1
            log.exception(
                "batch not handled (%s); reading it again", exc, extra={"group_id": group_id, "topic": topic}
            )
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
            return
        failures = 0
        await _commit(msg, records, group_id)
        _record_lag(msg, records, metrics)

    on_batch.__name__ = f"on_{topic.replace('.', '_').replace('-', '_')}"
    subscriber = router.subscriber(topic, **inbox_subscriber_options(group_id, max_records))
    subscriber.__class__ = PromptBatchSubscriber  # the same object, with one method of its own
    subscriber(on_batch)


class PromptBatchSubscriber(BatchSubscriber):
    """faststream's batch subscriber without its sleep after an empty poll.

    After a `getmany` that found nothing, faststream sleeps `batch_timeout_ms` more before polling again. On a
    quiet topic that is half the time: a message arriving in the sleep waits for its end (up to 50 ms on a
    worker's progress report, the p99 of bench G7 idle; issue 12). `getmany` already waits for data or the
    timeout, and returns as soon as a record is fetched, so the loop needs no pause of its own.
    """

    __slots__ = ()

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[Any, ...]:
        messages = await consumer.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.max_records)
        return tuple(chain(*messages.values()))


def _offsets_by_partition(
    records: Iterable[Any], pick: Callable[[int, int], int]
) -> dict[TopicPartition, int]:
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        out[tp] = pick(out.get(tp, r.offset), r.offset)
    return out


def _rewind(msg: KafkaMessage, records: Iterable[Any]) -> None:
    """Seek every partition of the batch back to its first record, so the next poll returns it again."""
    consumer: Any = msg.consumer
    for tp, offset in _offsets_by_partition(records, min).items():
        # Revoked meanwhile: its next owner starts at the committed offset, which is before this batch.
        with contextlib.suppress(IllegalStateError):
            consumer.seek(tp, offset)


async def _commit(msg: KafkaMessage, records: Iterable[Any], group_id: str) -> None:
    """Commit the handled records' offsets, not "whatever was fetched" (a bare commit() commits positions)."""
    consumer: Any = msg.consumer
    offsets = {tp: offset + 1 for tp, offset in _offsets_by_partition(records, max).items()}
    try:
        if isinstance(consumer, AIOKafkaConsumer):
            await consumer.commit(offsets)
        else:  # faststream's TestKafkaBroker: no real consumer, no offsets
            await msg.ack()
    except KafkaError as exc:  # rebalance (CommitFailed, IllegalState) or broker away
        # The effect is committed in Postgres: the batch comes back and the inbox absorbs it.
        log.warning(
            "offset commit failed (%s); the batch will be redelivered", exc, extra={"group_id": group_id}
        )


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
