"""Typed delivery on a real PostgreSQL: handlers receive decoded envelopes; an undecodable message is
dead-lettered alone, before any transaction, and the rest of its batch is applied in one go."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import orjson
import pytest

from common.consumer import InboxConsumer
from common.events.envelope import Envelope
from common.events.transform import ProcessChanged
from common.metrics import Metrics
from common.received import Received, envelope_decoder
from common.settings import RetrySettings
from tests.common.test_inbox_consumer import FakeRecord
from tests.support.schemas import plumbing_schema

pytestmark = pytest.mark.integration
FAST = RetrySettings(max_attempts=3, base_delay_s=0.001, max_delay_s=0.01)


def _event(name: str, event_id: str) -> bytes:
    payload = ProcessChanged(process_id=1, version=1, name=name, active=True, change="added")
    envelope = Envelope[ProcessChanged](
        event_id=uuid.UUID(event_id),
        event_type="ProcessChanged",
        source="t",
        correlation_id="c",
        payload=payload,
    )
    return orjson.dumps(envelope.model_dump(mode="json"))


class Typed:
    def __init__(self) -> None:
        self.batches: list[list[Received[ProcessChanged]]] = []

    async def __call__(self, conn: asyncpg.Connection, batch: list[Received[ProcessChanged]]) -> None:
        self.batches.append(batch)
        await conn.executemany("INSERT INTO effects (value) VALUES ($1)", [(r.payload.name,) for r in batch])


async def test_handlers_get_typed_envelopes_and_garbage_goes_to_the_dlq_alone() -> None:
    async with plumbing_schema() as (schema, pool):
        await pool.execute("CREATE TABLE effects (value text NOT NULL)")
        apply = Typed()
        decode = envelope_decoder(ProcessChanged)
        consumer = InboxConsumer(pool, schema, "typed", apply, FAST, Metrics("test"), decode=decode)
        records: list[Any] = [FakeRecord(b"", 0), FakeRecord(b"{not json", 1), FakeRecord(b"", 2)]
        for r in (records[0], records[2]):
            r.value = _event(f"p{r.offset}", r.event_id)
        await consumer.handle(records)

        assert [[r.payload.name for r in b] for b in apply.batches] == [["p0", "p2"]]  # one transaction
        assert all(r.event_id == uuid.UUID(r.delivery.headers["event_id"]) for r in apply.batches[0])
        assert sorted(await pool.fetchval("SELECT array_agg(value) FROM effects")) == ["p0", "p2"]
        dead = await pool.fetch("SELECT topic, payload, headers FROM outbox")
        assert [(d["topic"], bytes(d["payload"])) for d in dead] == [
            ("t.thing-happened.v1.dlq", b"{not json")
        ]
        assert "undecodable ProcessChanged" in orjson.loads(dead[0]["headers"])["dlq-error"]
