"""Inbox-guarded processing on a real PostgreSQL: dedupe, bounded retries, dead letters (DELIVERY.md §4, §6)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from common import inbox
from common.consumer import InboxConsumer
from common.delivery import Delivery, PermanentError
from common.metrics import Metrics
from common.settings import RetrySettings
from tests.support.schemas import plumbing_schema

pytestmark = pytest.mark.integration
FAST = RetrySettings(max_attempts=3, base_delay_s=0.001, max_delay_s=0.01)


@dataclass
class FakeRecord:
    value: bytes
    offset: int
    event_id: str | None = field(default_factory=lambda: str(uuid.uuid4()))
    topic: str = "t.thing-happened.v1"
    partition: int = 0
    key: bytes | None = b"k"

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [("event_id", self.event_id.encode())] if self.event_id else []


class Recorder:
    """Applies by inserting into a table, so effects are counted in the same transaction."""

    def __init__(self, poison: set[bytes] = frozenset(), flaky: set[bytes] = frozenset()) -> None:  # type: ignore[assignment]
        self.poison, self.flaky, self.calls = poison, flaky, 0

    async def __call__(self, conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        self.calls += 1
        for d in batch:
            if d.value in self.poison:
                raise PermanentError(f"cannot apply {d.value!r}")
            if d.value in self.flaky:
                raise RuntimeError("transient trouble")
        await conn.executemany("INSERT INTO effects (value) VALUES ($1)", [(d.value,) for d in batch])


async def _consumer(schema: str, pool: asyncpg.Pool, apply: Any) -> InboxConsumer:
    await pool.execute("CREATE TABLE effects (value bytea NOT NULL)")
    return InboxConsumer(pool, schema, "test-consumer", apply, FAST, Metrics("test"))


async def _effects(pool: asyncpg.Pool) -> list[bytes]:
    return [bytes(r["value"]) for r in await pool.fetch("SELECT value FROM effects ORDER BY value")]


async def _dead_letters(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT topic, payload, headers FROM outbox ORDER BY created_at")
    return [{"topic": r["topic"], "payload": bytes(r["payload"]), "headers": r["headers"]} for r in rows]


async def test_a_redelivered_batch_has_no_second_effect() -> None:
    async with plumbing_schema() as (schema, pool):
        consumer = await _consumer(schema, pool, Recorder())
        batch = [FakeRecord(b"a", 0), FakeRecord(b"b", 1)]
        await consumer.handle(batch)
        await consumer.handle(batch)  # Kafka redelivers after a crash before the offset commit
        await consumer.handle([batch[0], batch[0]])  # and the same event twice in one batch
        assert await _effects(pool) == [b"a", b"b"]


async def test_a_poison_message_is_dead_lettered_and_the_rest_applied() -> None:
    async with plumbing_schema() as (schema, pool):
        consumer = await _consumer(schema, pool, Recorder(poison={b"bad"}))
        await consumer.handle([FakeRecord(b"a", 0), FakeRecord(b"bad", 1), FakeRecord(b"c", 2)])
        assert await _effects(pool) == [b"a", b"c"]
        [dead] = await _dead_letters(pool)
        assert dead["topic"] == "t.thing-happened.v1.dlq"
        assert dead["payload"] == b"bad"  # the original bytes
        headers = __import__("orjson").loads(dead["headers"])
        assert headers["dlq-original-offset"] == "1"
        assert headers["dlq-error-class"] == "PermanentError"
        assert headers["dlq-attempts"] == "1"


async def test_a_message_without_event_id_is_dead_lettered_at_once() -> None:
    async with plumbing_schema() as (schema, pool):
        consumer = await _consumer(schema, pool, Recorder())
        await consumer.handle([FakeRecord(b"x", 0, event_id=None), FakeRecord(b"y", 1)])
        assert await _effects(pool) == [b"y"]
        assert [d["payload"] for d in await _dead_letters(pool)] == [b"x"]


async def test_a_failing_message_is_retried_a_bounded_number_of_times_then_dead_lettered() -> None:
    async with plumbing_schema() as (schema, pool):
        recorder = Recorder(flaky={b"flaky"})
        consumer = await _consumer(schema, pool, recorder)
        record = FakeRecord(b"flaky", 7)
        await consumer.handle([record])
        [dead] = await _dead_letters(pool)
        headers = __import__("orjson").loads(dead["headers"])
        assert headers["dlq-attempts"] == str(FAST.max_attempts)
        assert headers["dlq-error-class"] == "RuntimeError"
        assert recorder.calls <= 2 * FAST.max_attempts
        outcome = await pool.fetchval(
            "SELECT outcome FROM inbox WHERE event_id = $1", uuid.UUID(record.event_id)
        )
        assert outcome == "dead"


async def test_a_dead_event_applies_once_when_replayed() -> None:
    async with plumbing_schema() as (schema, pool):
        event_id = uuid.uuid4()
        async with pool.acquire() as conn, conn.transaction():
            await inbox.mark_dead(conn, "c", event_id)
            assert await inbox.claim(conn, "c", [event_id]) == set()  # plain redelivery: still dead
            assert await inbox.claim(conn, "c", [event_id], [event_id]) == {event_id}  # replay applies
            assert await inbox.claim(conn, "c", [event_id], [event_id]) == set()  # twice is harmless


async def test_before_inbox_runs_first_in_the_batch_transaction_before_any_xid() -> None:
    """The hook sees a transaction with no xid yet (the inbox row is what assigns it), and its effects commit
    or roll back with the batch."""
    seen: list[object] = []

    async def before(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        seen.append(await conn.fetchval("SELECT pg_current_xact_id_if_assigned()"))
        await conn.executemany(
            "INSERT INTO effects (value) VALUES ($1)", [(b"hook-" + d.value,) for d in batch]
        )

    async with plumbing_schema() as (schema, pool):
        await pool.execute("CREATE TABLE effects (value bytea NOT NULL)")
        recorder = Recorder(poison={b"bad"})
        consumer = InboxConsumer(pool, schema, "test-consumer", recorder, FAST, Metrics("test"), before)
        await consumer.handle([FakeRecord(b"a", 0)])
        assert seen == [None]
        assert await _effects(pool) == [b"a", b"hook-a"]
        await consumer.handle([FakeRecord(b"bad", 1)])  # dead-lettered: the hook's write goes with it
        assert await _effects(pool) == [b"a", b"hook-a"]
