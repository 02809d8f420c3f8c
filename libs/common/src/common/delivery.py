"""What a consumer receives, independent of the Kafka client, and how failures are classified."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

REPLAY_HEADER = "replay-of"


class PermanentError(Exception):
    """Input that can never apply (undecodable, invalid, rejected by a business rule): DLQ at once."""


class Record(Protocol):
    """The parts of an aiokafka ConsumerRecord we use (read-only)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    event_id: uuid.UUID | None

    @property
    def is_replay(self) -> bool:
        return REPLAY_HEADER in self.headers

    @classmethod
    def of(cls, record: Record) -> Delivery:
        headers = {k: bytes(v or b"").decode("utf-8", "replace") for k, v in (record.headers or ())}
        try:
            event_id: uuid.UUID | None = uuid.UUID(headers.get("event_id", ""))
        except ValueError:
            event_id = None
        value = record.value or b""
        return cls(record.topic, record.partition, record.offset, record.key, value, headers, event_id)


# The database or network is away: wait it out without spending a message's attempts (§6).
_OUTAGE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
)


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, _OUTAGE)
