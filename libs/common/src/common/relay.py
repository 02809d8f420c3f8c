"""The outbox relay: claim unsent rows, publish them with acks=all, mark them sent.

A crash between publish and mark republishes; consumers' inboxes absorb the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError, OutOfOrderSequenceNumber

from common.backoff import full_jitter
from common.db import connect
from common.outbox import Claimed, Lane, OutboxRow, OutboxStore, channel

if TYPE_CHECKING:
    import asyncpg

    from common.metrics import Metrics
    from common.settings import KafkaSettings, PostgresSettings

log = logging.getLogger(__name__)

# Errors about one record, not about the broker: retrying cannot help.
_RECORD_ERRORS = (MessageSizeTooLargeError,)


def safe_producer(kafka: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """acks=all + idempotence (DELIVERY.md §2); a small linger batches a relay's burst."""
    return AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,  # batches still form while a request is in flight; a lone progress event must not wait
        max_batch_size=512 * 1024,
        max_request_size=2 * 1024 * 1024,
        request_timeout_ms=30_000,
    )


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        pg: PostgresSettings,
        kafka: KafkaSettings,
        schema: str,
        *,
        batch_size: int = 1000,
        poll_interval_s: float = 1.0,
        metrics: Metrics | None = None,
        priority_topics: frozenset[str] = frozenset(),
    ) -> None:
        self._store = OutboxStore(pool)
        self._pg, self._kafka, self._schema = pg, kafka, schema
        self._batch_size, self._poll = batch_size, poll_interval_s
        # A lane of its own for latency-sensitive topics, so a bulk import never queues in front of them.
        self._lanes = (
            [Lane(priority_topics), Lane(priority_topics, outside=True)]
            if priority_topics
            else [Lane(frozenset(), outside=True)]
        )
        self._wakes = [asyncio.Event() for _ in self._lanes]
        self._producer: AIOKafkaProducer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None
        self._metrics = metrics
        self.published = 0

    @property
    def store(self) -> OutboxStore:
        return self._store

    async def start(self) -> None:
        self._producer = await self._new_producer()
        await self._listen()
        self._tasks = [
            asyncio.create_task(self._run(lane, wake), name=f"outbox-relay-{self._schema}-{i}")
            for i, (lane, wake) in enumerate(zip(self._lanes, self._wakes, strict=True))
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._listener:
            with contextlib.suppress(Exception):
                await self._listener.close()
        if self._producer:
            await self._producer.stop()

    async def ping(self) -> None:
        """Readiness: a metadata round trip to the broker."""
        assert self._producer is not None
        await self._producer.client.fetch_all_metadata()

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = safe_producer(self._kafka, f"{self._kafka.client_id}-{self._schema}-relay")
        await producer.start()
        return producer

    async def _listen(self) -> None:
        # A dedicated connection outside the pool: notifications need a live session.
        try:
            self._listener = await connect(self._pg, self._schema)
            await self._listener.add_listener(channel(self._schema), lambda *_: self._wake_all())
        except Exception as exc:  # polling still covers us
            log.warning("outbox relay: LISTEN unavailable, polling only: %s", exc)
            self._listener = None

    def _wake_all(self) -> None:
        for wake in self._wakes:
            wake.set()

    async def _run(self, lane: Lane, wake: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                while await self.drain_once(lane):
                    pass
                failures = 0
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel as the wait ends.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await wake.wait()
                wake.clear()
                if self._listener is None or self._listener.is_closed():
                    await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = full_jitter(failures, 0.1, 10.0)
                log.warning("outbox relay: %s; retrying in %.1fs", exc, delay, extra={"schema": self._schema})
                await asyncio.sleep(delay)

    async def drain_once(self, lane: Lane | None = None) -> bool:
        """Publish one claimed batch. Returns whether there was anything to publish."""
        claimed = await self._store.claim(self._batch_size, lane)
        if claimed is None:
            return False
        try:
            await self._publish(claimed.rows)
        except _RECORD_ERRORS:
            await self._publish_one_by_one(claimed)
        except OutOfOrderSequenceNumber:
            # aiokafka #1017: the idempotent producer can stick after an outage; start afresh.
            await self._store.release(claimed)
            await self._replace_producer()
            raise
        except BaseException:
            await asyncio.shield(self._store.release(claimed))
            raise
        await self._store.mark_sent(claimed)
        self.published += len(claimed.rows)
        if self._metrics:
            for row in claimed.rows:
                self._metrics.events_produced.labels(row.topic).inc()
        return True

    async def refresh_metrics(self) -> None:
        if self._metrics:
            backlog, age = await self._store.stats()
            self._metrics.outbox_backlog.set(backlog)
            self._metrics.outbox_oldest_age.set(age)

    async def _publish(self, rows: list[OutboxRow]) -> None:
        assert self._producer is not None
        futures = []
        for n, row in enumerate(rows, 1):
            if n % 100 == 0:
                await asyncio.sleep(0)  # let a latency-sensitive lane run between chunks of a bulk batch
            headers = [(k, v.encode()) for k, v in row.headers.items()]
            futures.append(
                await self._producer.send(row.topic, row.payload, key=row.key.encode(), headers=headers)
            )
        await asyncio.gather(*futures)

    async def _publish_one_by_one(self, claimed: Claimed) -> None:
        for row in claimed.rows:
            try:
                await self._publish([row])
            except _RECORD_ERRORS as exc:
                log.error("outbox row buried: %s", exc, extra={"event_id": row.id, "topic": row.topic})
                await self._store.bury(claimed, row, f"{type(exc).__name__}: {exc}")

    async def _replace_producer(self) -> None:
        if self._producer:
            with contextlib.suppress(Exception):
                await self._producer.stop()
        self._producer = await self._new_producer()
