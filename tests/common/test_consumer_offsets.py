"""A batch whose handler raises is never committed past, on the real broker (faststream #2618).

Under AckPolicy.MANUAL faststream neither acks nor nacks a batch whose handler raised, while aiokafka's
position has already moved past it: the next batch's commit would then cover the failed one, and after a
restart it would never come back. The subscriber must rewind instead, so the batch is redelivered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from common.delivery import Record
from common.kafka import create_broker, ensure_topics, subscribe_inbox
from common.metrics import Metrics
from common.settings import KafkaSettings
from tests.support.api import eventually
from tests.support.stack import KAFKA_BOOTSTRAP

pytestmark = pytest.mark.e2e
KAFKA = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP, partitions=1)
MESSAGES, BATCH = 15, 5
ALL = [str(i).encode() for i in range(MESSAGES)]


class Handler:
    """Records what it handled; raises (as a handler bug or a crash in our plumbing would) while told to."""

    def __init__(self, fails: Callable[[list[bytes], int], bool]) -> None:
        self.fails, self.failures, self.ok = fails, 0, list[bytes]()

    async def handle(self, records: Sequence[Record]) -> None:
        values = [bytes(r.value or b"") for r in records]
        if self.fails(values, self.failures):
            self.failures += 1
            raise RuntimeError(f"handler failed on {values}")
        self.ok.extend(values)


async def _topic_with_messages(
    values: Sequence[bytes] = ALL, headers: Sequence[tuple[str, bytes]] = ()
) -> str:
    topic = f"t.offsets-{uuid.uuid4().hex[:8]}.v1"
    await ensure_topics(KAFKA, [topic], with_dlq=False)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"k", headers=list(headers))
    finally:
        await producer.stop()
    return topic


async def _committed(topic: str, group: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    meta = offsets.get(TopicPartition(topic, 0))
    return None if meta is None or meta.offset < 0 else meta.offset


async def _run(topic: str, group: str, handler: Handler, until: Callable[[], bool]) -> None:
    broker = create_broker(KAFKA, f"offsets-test-{group}")
    subscribe_inbox(broker, topic, group, handler, Metrics("test"), max_records=BATCH)
    await broker.start()
    try:

        async def done() -> bool:
            return until()

        await eventually(done, timeout_s=60, every_s=0.1)
    finally:
        await broker.stop()


async def test_a_batch_that_failed_once_is_redelivered_in_the_same_run() -> None:
    topic, group = await _topic_with_messages(), f"g-{uuid.uuid4().hex[:8]}"
    handler = Handler(lambda values, failures: b"5" in values and failures == 0)
    await _run(topic, group, handler, lambda: set(ALL) <= set(handler.ok))
    assert handler.failures == 1
    assert sorted(set(handler.ok), key=int) == ALL
    assert await _committed(topic, group) == MESSAGES


async def test_a_batch_that_keeps_failing_blocks_its_partition_and_comes_back_after_a_restart() -> None:
    topic, group = await _topic_with_messages(), f"g-{uuid.uuid4().hex[:8]}"
    broken = Handler(lambda values, _failures: b"5" in values)
    await _run(topic, group, broken, lambda: broken.failures >= 3 or b"14" in broken.ok)
    assert broken.ok == ALL[:5]  # nothing after the failing batch was handled, so nothing was acked past it
    committed = await _committed(topic, group)
    assert committed is not None and committed <= 5, committed

    healed = Handler(lambda _values, _failures: False)  # the fix is deployed; the consumer restarts
    await _run(topic, group, healed, lambda: b"14" in healed.ok)
    assert healed.ok[0] == b"5"  # resumed exactly at the failed batch: nothing skipped
    assert sorted(set(healed.ok), key=int) == ALL[5:]
    assert await _committed(topic, group) == MESSAGES


async def test_a_record_labelled_json_that_is_not_reaches_the_handler_undecoded() -> None:
    """faststream json-decoded every record before our handler when its header said application/json; a body
    that was not JSON raised there, outside the inbox, and its batch never reached the handler (nor the
    dead-letter path). The handler gets the bytes as produced, whatever their label."""
    values = [b"1", b"{not json", b"3"]
    topic = await _topic_with_messages(values, headers=[("content-type", b"application/json")])
    group = f"g-{uuid.uuid4().hex[:8]}"
    handler = Handler(lambda _values, _failures: False)
    await _run(topic, group, handler, lambda: b"3" in handler.ok)
    assert handler.ok == values
    assert await _committed(topic, group) == len(values)
