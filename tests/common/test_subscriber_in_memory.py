"""subscribe_inbox also runs under faststream's TestKafkaBroker, which handler unit tests use (no offsets)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from common import topics
from common.consumer import ApplyBatch, InboxConsumer
from common.delivery import Record
from common.events.envelope import Envelope
from common.events.transform import ProcessChanged
from common.kafka import create_broker, subscribe_inbox
from common.metrics import Metrics
from common.received import Received, envelope_decoder
from common.settings import KafkaSettings, RetrySettings
from common.topics import dlq
from tests.support.schemas import plumbing_schema


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


@pytest.mark.integration
async def test_a_typed_subscriber_gets_envelopes_in_memory_and_dead_letters_garbage() -> None:
    """FastStream's TestKafkaBroker → subscribe_inbox → InboxConsumer (real PostgreSQL) → typed handler."""
    received: list[Received[ProcessChanged]] = []

    async def apply(conn: asyncpg.Connection, batch: list[Received[ProcessChanged]]) -> None:
        received.extend(batch)

    async with plumbing_schema() as (schema, pool):
        broker = _typed_broker(pool, schema, "g-typed", apply)
        good = _envelope("热喷涂")
        async with TestKafkaBroker(broker) as test_broker:
            await test_broker.publish(
                good.model_dump_json().encode(),
                topics.TRANSFORM_PROCESS_CHANGED,
                headers=_headers(good.event_id),
            )
            await test_broker.publish(b"[]", topics.TRANSFORM_PROCESS_CHANGED, headers=_headers(uuid.uuid4()))
        assert [(r.event_id, r.payload.name) for r in received] == [(good.event_id, "热喷涂")]
        dead = await pool.fetch("SELECT topic, payload FROM outbox")
        assert [(d["topic"], bytes(d["payload"])) for d in dead] == [
            (dlq(topics.TRANSFORM_PROCESS_CHANGED), b"[]")
        ]


def _typed_broker(pool: asyncpg.Pool, schema: str, group: str, apply: ApplyBatch) -> KafkaBroker:
    """An in-memory broker whose ProcessChanged subscriber is an InboxConsumer on the real PostgreSQL schema."""
    consumer = InboxConsumer(
        pool, schema, group, apply, RetrySettings(), Metrics("unit"), decode=envelope_decoder(ProcessChanged)
    )
    broker = create_broker(KafkaSettings(), "unit")
    subscribe_inbox(broker, topics.TRANSFORM_PROCESS_CHANGED, group, consumer, Metrics("unit"))
    return broker


def _envelope(name: str) -> Envelope[ProcessChanged]:
    payload = ProcessChanged(process_id=1, version=1, name=name, active=True, change="added")
    return Envelope[ProcessChanged](
        event_type="ProcessChanged", source="t", correlation_id="c", payload=payload
    )


def _headers(event_id: uuid.UUID) -> dict[str, str]:
    return {"event_id": str(event_id)}


@pytest.mark.integration
async def test_a_body_labelled_json_that_is_not_is_dead_lettered_not_lost() -> None:
    """faststream used to json-decode every record a second time, before our handler: a producer's record
    labelled `content-type: application/json` whose body is not JSON made it raise outside the inbox, so the
    record never reached the dead-letter path. The subscriber now hands the raw bytes over undecoded."""
    async with plumbing_schema() as (schema, pool):
        applied: list[object] = []

        async def apply(conn: asyncpg.Connection, batch: list[Received[ProcessChanged]]) -> None:
            applied.extend(batch)

        broker = _typed_broker(pool, schema, "g-label", apply)
        headers = {**_headers(uuid.uuid4()), "content-type": "application/json"}
        async with TestKafkaBroker(broker) as test_broker:
            await test_broker.publish(b"{not json", topics.TRANSFORM_PROCESS_CHANGED, headers=headers)
        dead = await pool.fetch("SELECT topic, payload FROM outbox")
        assert applied == []
        assert [(d["topic"], bytes(d["payload"])) for d in dead] == [
            (dlq(topics.TRANSFORM_PROCESS_CHANGED), b"{not json")
        ]
