"""The inbox subscriber polls again at once after an empty poll (faststream's own sleeps `batch_timeout_ms` more,
and a report arriving in that sleep waited for it: bench G7 idle p99, issue 12)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from faststream.kafka.subscriber.usecase import BatchSubscriber

from common.delivery import Record
from common.kafka import PromptBatchSubscriber, create_broker, subscribe_inbox
from common.metrics import Metrics
from common.settings import KafkaSettings


class Quiet:
    """A consumer on a topic with nothing new: `getmany` answers at once, empty (as after a rebalance)."""

    def __init__(self, then: dict[Any, list[Any]] | None = None) -> None:
        self.polls, self.then = 0, then or {}

    async def getmany(self, timeout_ms: int, max_records: int | None = None) -> dict[Any, list[Any]]:
        self.polls += 1
        return {} if self.polls == 1 else self.then


class Handler:
    async def handle(self, records: Sequence[Record]) -> None:
        pass


def inbox_subscriber(timeout_ms: int) -> BatchSubscriber:
    broker = create_broker(KafkaSettings(), "unit")
    subscribe_inbox(broker, "t.unit.v1", "g-unit", Handler(), Metrics("unit"))
    (subscriber,) = broker.subscribers
    assert isinstance(subscriber, BatchSubscriber)
    subscriber.batch_timeout_ms = timeout_ms
    return subscriber


async def test_an_inbox_subscriber_is_the_prompt_kind() -> None:
    assert type(inbox_subscriber(50)) is PromptBatchSubscriber


async def test_an_empty_poll_is_followed_by_the_next_poll_without_a_pause() -> None:
    subscriber, consumer = inbox_subscriber(timeout_ms=3_000), Quiet(then={"tp": ["r1", "r2"]})
    started = time.perf_counter()
    assert await subscriber.get_msg(consumer) == ()
    assert time.perf_counter() - started < 1.0, "an empty poll was followed by a pause of batch_timeout_ms"
    assert await subscriber.get_msg(consumer) == ("r1", "r2")
