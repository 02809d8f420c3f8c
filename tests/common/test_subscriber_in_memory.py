"""subscribe_inbox also runs under faststream's TestKafkaBroker, which handler unit tests use (no offsets)."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import TestKafkaBroker

from common.delivery import Record
from common.kafka import create_broker, subscribe_inbox
from common.metrics import Metrics
from common.settings import KafkaSettings


class Handler:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def handle(self, records: Sequence[Record]) -> None:
        self.values += [bytes(r.value or b"") for r in records]


async def test_a_batch_is_handled_and_acknowledged_in_memory() -> None:
    broker, handler = create_broker(KafkaSettings(), "unit"), Handler()
    subscribe_inbox(broker, "t.unit.v1", "g-unit", handler, Metrics("unit"))
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"hello", "t.unit.v1")
    assert handler.values == [b"hello"]
