"""A poison message reaches <topic>.dlq with its original bytes, and the replay tool sends it back."""

from __future__ import annotations

import subprocess
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from common import topics
from common.replay import read_all
from common.settings import KafkaSettings
from tests.support.api import eventually
from tests.support.stack import KAFKA_BOOTSTRAP, PYTHON, ROOT, ServiceProcess

pytestmark = pytest.mark.e2e
# The replay tool is a command-line program: the test runs it as one, blocking is intended.
# ruff: noqa: ASYNC221
KAFKA = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP)
DLQ = topics.dlq(topics.INGEST_PROGRESS_REPORTED)


async def _letters(event_id: str) -> list[dict[str, str]]:
    return [d.headers for d in await read_all(KAFKA, DLQ) if d.headers.get("event_id") == event_id]


async def test_poison_is_dead_lettered_then_replayed(
    services: dict[str, ServiceProcess], admin: asyncpg.Connection
) -> None:
    event_id, poison = str(uuid.uuid4()), b'{"payload": "not a progress report"'
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA.bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.INGEST_PROGRESS_REPORTED,
            poison,
            key=b"HT-POISON",
            headers=[("event_id", event_id.encode())],
        )
    finally:
        await producer.stop()

    [first] = await eventually(lambda: _letters(event_id), timeout_s=60)
    assert first["dlq-original-topic"] == topics.INGEST_PROGRESS_REPORTED
    assert first["dlq-error-class"] == "PermanentError"
    assert first["dlq-attempts"] == "1"
    assert [d.value for d in await read_all(KAFKA, DLQ) if d.headers.get("event_id") == event_id] == [poison]

    tool = [PYTHON, "-m", "common.replay", DLQ, "--event-id", event_id, "--bootstrap", KAFKA_BOOTSTRAP]
    dry = subprocess.run(tool, capture_output=True, text=True, cwd=ROOT, check=True, timeout=60)
    assert "dry run: 1 dead letter(s) selected" in dry.stdout
    assert len(await _letters(event_id)) == 1  # a dry run sends nothing

    applied = subprocess.run(
        [*tool, "--apply"], capture_output=True, text=True, cwd=ROOT, check=True, timeout=60
    )
    assert "replayed 1 of 1" in applied.stdout
    # Still undecodable: the inbox let the replay through once, and it was dead-lettered again, marked as a replay.
    letters = await eventually(lambda: _letters_at_least(event_id, 2), timeout_s=60)
    assert letters[1]["replay-of"].startswith(f"{DLQ}:")
    outcome = await admin.fetchval(
        "SELECT outcome FROM transform.inbox WHERE event_id = $1", uuid.UUID(event_id)
    )
    assert outcome == "dead"


async def _letters_at_least(event_id: str, n: int) -> list[dict[str, str]] | None:
    letters = await _letters(event_id)
    return letters if len(letters) >= n else None
