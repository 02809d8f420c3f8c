"""Put an integration event on a topic exactly as a service's outbox relay would: the envelope as JSON,
keyed by aggregate id, with the `event_id` header consumers' inboxes use."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from common.events.envelope import Envelope
from common.outbox import row_for
from tests.support.stack import KAFKA_BOOTSTRAP


async def publish(topic: str, key: str, envelope: Envelope[Any]) -> None:
    row = row_for(topic, key, envelope)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        headers = [(k, v.encode()) for k, v in row.headers.items()]
        await producer.send_and_wait(topic, row.payload, key=row.key.encode(), headers=headers)
    finally:
        await producer.stop()
