"""Inbox-guarded batch processing with bounded retry and dead-lettering (DELIVERY.md §4, §6).

The caller (a faststream subscriber with AckPolicy.MANUAL) acks the batch only after `handle`
returns: by then every message is either applied or dead-lettered, both committed in Postgres.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from common import inbox, outbox
from common.delivery import Delivery, PermanentError, Record, is_outage
from common.topics import dlq

if TYPE_CHECKING:
    import asyncpg

    from common.metrics import Metrics
    from common.settings import RetrySettings

log = logging.getLogger(__name__)
T = TypeVar("T")

ApplyBatch = Callable[["asyncpg.Connection", list[Delivery]], Awaitable[None]]


def backoff_delay(attempt: int, retry: RetrySettings) -> float:
    """Capped exponential backoff with full jitter."""
    return random.uniform(0, min(retry.max_delay_s, retry.base_delay_s * 2 ** (attempt - 1)))


class InboxConsumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        name: str,
        apply: ApplyBatch,
        retry: RetrySettings,
        metrics: Metrics,
        before_inbox: ApplyBatch | None = None,
    ) -> None:
        self._pool, self._schema, self._name, self._apply = pool, schema, name, apply
        self._retry, self._metrics, self._before_inbox = retry, metrics, before_inbox

    async def handle(self, records: Sequence[Record]) -> None:
        started = time.perf_counter()
        deliveries = [Delivery.of(r) for r in records]
        topic = deliveries[0].topic if deliveries else ""
        self._metrics.events_consumed.labels(topic).inc(len(deliveries))
        good: dict[uuid.UUID, Delivery] = {}
        for d in deliveries:
            if d.event_id is None:
                await self._dead_letter(d, PermanentError("missing or invalid event_id header"), 1)
            else:
                good.setdefault(d.event_id, d)  # the same event twice in one batch applies once
        if good:
            await self._batch(list(good.values()))
        self._metrics.handler_seconds.labels(topic).observe(time.perf_counter() - started)

    async def _batch(self, batch: list[Delivery]) -> None:
        for attempt in range(1, self._retry.max_attempts + 1):
            try:
                await self._until_reachable(lambda: self._transaction(batch))
                return
            except PermanentError:
                break
            except Exception as exc:
                self._failed(batch[0].topic, exc)
                if len(batch) > 1 and attempt >= 2:
                    break  # isolate the culprit instead of hammering the whole batch
                await asyncio.sleep(backoff_delay(attempt, self._retry))
        if len(batch) == 1:
            await self._single(batch[0])
            return
        for d in batch:
            await self._single(d)

    async def _single(self, d: Delivery) -> None:
        assert d.event_id is not None
        while True:
            try:
                await self._until_reachable(lambda: self._transaction([d]))
                return
            except PermanentError as exc:
                await self._dead_letter(
                    d, exc, await inbox.attempts_so_far(self._pool, self._name, d.event_id) + 1
                )
                return
            except Exception as exc:
                self._failed(d.topic, exc)
                attempts = await self._count_attempt(d.event_id, _describe(exc))
                if attempts >= self._retry.max_attempts:
                    await self._dead_letter(d, exc, attempts)
                    return
                await asyncio.sleep(backoff_delay(attempts, self._retry))

    async def _count_attempt(self, event_id: uuid.UUID, error: str) -> int:
        return await self._until_reachable(
            lambda: inbox.record_attempt(self._pool, self._name, event_id, error)
        )

    async def _transaction(self, batch: list[Delivery]) -> None:
        ids = [d.event_id for d in batch if d.event_id]
        replays = [d.event_id for d in batch if d.event_id and d.is_replay]
        async with self._pool.acquire() as conn, conn.transaction():
            if self._before_inbox is not None:
                # First in the transaction, before the inbox row gives it a transaction id: a service that
                # orders its writers by locks can take them here, so xid order follows lock order.
                await self._before_inbox(conn, batch)
            fresh = await inbox.claim(conn, self._name, ids, replays)
            todo = [d for d in batch if d.event_id in fresh]
            if todo:
                await self._apply(conn, todo)
        topic = batch[0].topic
        self._metrics.events_applied.labels(topic).inc(len(todo))
        if len(todo) < len(batch):
            self._metrics.events_duplicate.labels(topic).inc(len(batch) - len(todo))

    async def _until_reachable(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run `step`, waiting out database/network outages without counting attempts."""
        pause = 0.5
        while True:
            try:
                return await step()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                log.warning("%s: dependency unreachable (%s); waiting %.1fs", self._name, exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 15.0)

    async def _dead_letter(self, d: Delivery, exc: BaseException, attempts: int) -> None:
        """One transaction: inbox says dead, outbox carries the original bytes to <topic>.dlq."""
        now = datetime.now(UTC).isoformat()
        headers = {
            **d.headers,
            "dlq-original-topic": d.topic,
            "dlq-original-partition": str(d.partition),
            "dlq-original-offset": str(d.offset),
            "dlq-consumer": self._name,
            "dlq-error-class": type(exc).__name__,
            "dlq-error": _describe(exc)[:500],
            "dlq-attempts": str(attempts),
            "dlq-failed-at": now,
        }
        key = (d.key or b"").decode("utf-8", "replace")
        row = outbox.OutboxRow(uuid.uuid4(), dlq(d.topic), key, d.value, headers)

        async def write() -> None:
            async with self._pool.acquire() as conn, conn.transaction():
                if d.event_id is not None:
                    await inbox.mark_dead(conn, self._name, d.event_id)
                await outbox.add(conn, self._schema, [row])

        await self._until_reachable(write)
        self._metrics.events_dead_lettered.labels(d.topic, type(exc).__name__).inc()
        log.error(
            "%s: dead-lettered %s@%s/%s after %s attempt(s): %s",
            self._name,
            d.event_id,
            d.topic,
            d.offset,
            attempts,
            _describe(exc),
        )

    def _failed(self, topic: str, exc: BaseException) -> None:
        self._metrics.events_failed.labels(topic, type(exc).__name__).inc()
        log.warning("%s: attempt failed: %s", self._name, _describe(exc))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
