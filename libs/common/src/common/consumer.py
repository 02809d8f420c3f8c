"""Inbox-guarded batch processing with bounded retry and dead-lettering (DELIVERY.md §4, §6).

`handle` is total: every failure either waits out an outage (no attempt spent), spends an attempt in
Postgres and retries, or dead-letters, so when it returns every message is applied or dead-lettered, both
committed. It raises only when the service stops (`ConsumerStoppingError`, cancellation) or when even the
bookkeeping fails while the database answers; the subscriber then rewinds the batch instead of acking it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from common import inbox, outbox
from common.backoff import full_jitter
from common.delivery import Delivery, Failure, PermanentError, Record, classify
from common.topics import dlq

if TYPE_CHECKING:
    import asyncpg

    from common.metrics import Metrics
    from common.received import Decode, Received
    from common.settings import RetrySettings

log = logging.getLogger(__name__)
T = TypeVar("T")

ApplyBatch = Callable[["asyncpg.Connection", list[Any]], Awaitable[None]]
"""Called in the batch's transaction with the fresh messages: `Delivery`s, or `Received`s when decoding."""


class ConsumerStoppingError(Exception):
    """The service is stopping: the batch stays unacknowledged and comes back after the restart."""


def backoff_delay(attempt: int, retry: RetrySettings) -> float:
    return full_jitter(attempt, retry.base_delay_s, retry.max_delay_s)


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
        *,
        decode: Decode | None = None,
        probe_timeout_s: float = 5.0,
    ) -> None:
        self._pool, self._schema, self._name, self._apply = pool, schema, name, apply
        # This batch's decoded messages by event id; `handle` runs one batch at a time (the subscriber awaits it).
        self._decode, self._decoded = decode, dict["uuid.UUID", "Received[Any]"]()
        self._retry, self._metrics, self._before_inbox = retry, metrics, before_inbox
        self._probe_timeout_s = probe_timeout_s
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Cut every wait short; a transaction in flight still finishes. Called before the broker stops."""
        self._stopping.set()

    async def handle(self, records: Sequence[Record]) -> None:
        if self._stopping.is_set():
            raise ConsumerStoppingError
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
        batch = await self._decoded_only(list(good.values()))
        if batch:
            try:
                await self._batch(batch)
            finally:
                self._decoded.clear()
        self._metrics.handler_seconds.labels(topic).observe(time.perf_counter() - started)

    async def _decoded_only(self, batch: list[Delivery]) -> list[Delivery]:
        """Decode each message once, before any transaction; one that never can is dead-lettered alone."""
        if self._decode is None:
            return batch
        kept = []
        for d in batch:
            try:
                self._decoded[d.event_id] = self._decode(d)  # type: ignore[index]
            except PermanentError as exc:
                await self._dead_letter(d, exc, 1)
                continue
            kept.append(d)
        return kept

    def _items(self, batch: list[Delivery]) -> list[Any]:
        return batch if self._decode is None else [self._decoded[d.event_id] for d in batch]  # type: ignore[index]

    async def _batch(self, batch: list[Delivery]) -> None:
        """The whole batch in one transaction, tried twice; then each message on its own."""
        for attempt in (1, 2) if len(batch) > 1 else ():
            try:
                await self._guarded(lambda: self._transaction(batch))
                return
            except ConsumerStoppingError:
                raise
            except PermanentError:
                break  # one of them can never apply: find it
            except Exception as exc:
                self._failed(batch[0].topic, exc)
                if attempt == 1:
                    await self._pause(backoff_delay(attempt, self._retry))
        for d in batch:
            await self._single(d)

    async def _single(self, d: Delivery) -> None:
        assert d.event_id is not None
        event_id = d.event_id
        while True:
            try:
                await self._guarded(lambda: self._transaction([d]))
                return
            except ConsumerStoppingError:
                raise
            except PermanentError as exc:
                so_far = await self._guarded(lambda: inbox.attempts_so_far(self._pool, self._name, event_id))
                await self._dead_letter(d, exc, so_far + 1)
                return
            except Exception as exc:
                self._failed(d.topic, exc)
                count = partial(inbox.record_attempt, self._pool, self._name, event_id, _describe(exc))
                attempts = await self._guarded(count)
                if attempts >= self._retry.max_attempts:
                    await self._dead_letter(d, exc, attempts)
                    return
                await self._pause(backoff_delay(attempts, self._retry))

    async def _transaction(self, batch: list[Delivery]) -> None:
        ids = [d.event_id for d in batch if d.event_id]
        replays = [d.event_id for d in batch if d.event_id and d.is_replay]
        async with self._pool.acquire() as conn, conn.transaction():
            if self._before_inbox is not None:
                # First in the transaction, before the inbox row gives it a transaction id: a service that
                # orders its writers by locks can take them here, so xid order follows lock order.
                await self._before_inbox(conn, self._items(batch))
            fresh = await inbox.claim(conn, self._name, ids, replays)
            todo = [d for d in batch if d.event_id in fresh]
            if todo:
                await self._apply(conn, self._items(todo))
        topic = batch[0].topic
        self._metrics.events_applied.labels(topic).inc(len(todo))
        if len(todo) < len(batch):
            self._metrics.events_duplicate.labels(topic).inc(len(batch) - len(todo))

    async def _guarded(self, step: Callable[[], Awaitable[T]]) -> T:
        """Run `step`; while the database does not answer, wait and run it again, spending no attempt.

        Any other failure is re-raised for the caller to count (or dead-letter, if permanent).
        """
        pause = 0.5
        while True:
            try:
                return await step()
            except (PermanentError, ConsumerStoppingError):
                raise
            except Exception as exc:
                if classify(exc, reachable=await self._reachable()) is not Failure.OUTAGE:
                    raise
                log.warning(
                    "database unreachable (%s); waiting %.1fs",
                    _describe(exc),
                    pause,
                    extra={"consumer": self._name},
                )
                await self._pause(pause)
                pause = min(pause * 2, 15.0)

    async def _reachable(self) -> bool:
        try:
            async with asyncio.timeout(self._probe_timeout_s):
                await self._pool.fetchval("SELECT 1")
        except Exception:  # any failure to answer SELECT 1 in time means: not reachable now
            return False
        return True

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the service is stopping: then give the batch back unacknowledged."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return
        raise ConsumerStoppingError

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
        key = _text((d.key or b"").decode("utf-8", "replace"))
        clean = {_text(k): _text(v) for k, v in headers.items()}
        row = outbox.OutboxRow(uuid.uuid4(), dlq(d.topic), key, d.value, clean)

        async def write() -> None:
            async with self._pool.acquire() as conn, conn.transaction():
                if d.event_id is not None:
                    await inbox.mark_dead(conn, self._name, d.event_id)
                await outbox.add(conn, self._schema, [row])

        await self._guarded(write)
        self._metrics.events_dead_lettered.labels(d.topic, type(exc).__name__).inc()
        fields = {"consumer": self._name, "event_id": d.event_id, "topic": d.topic, "offset": d.offset}
        log.error("dead-lettered: %s", _describe(exc), extra={**fields, "attempts": attempts})

    def _failed(self, topic: str, exc: BaseException) -> None:
        self._metrics.events_failed.labels(topic, type(exc).__name__).inc()
        log.warning("attempt failed: %s", _describe(exc), extra={"consumer": self._name, "topic": topic})


def _describe(exc: BaseException) -> str:
    return _text(f"{type(exc).__name__}: {exc}")


def _text(value: str) -> str:
    """PostgreSQL text and jsonb refuse NUL; input that carries one must still reach the DLQ."""
    return value.replace("\x00", "\ufffd")
