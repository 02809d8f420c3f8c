"""What a consumer receives, independent of the Kafka client, and how failures are classified."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

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


class Failure(StrEnum):
    """What a failed step means for the message (DELIVERY.md §6)."""

    OUTAGE = "outage"  # the database does not answer: wait it out, spend no attempt
    POISON = "poison"  # can never apply: dead-letter at once
    ATTEMPT = "attempt"  # failed while the database answers (timeout, killed connection, bug): count it


def classify(exc: BaseException, *, reachable: bool) -> Failure:
    """Decided by whether the database answers right after the failure, not by the exception's type.

    A query timeout or a dead connection looks the same whether the server is away or the message is
    slow or kills its own connection; only the second spends attempts, so it ends in the DLQ instead of
    blocking its partition forever, while an outage never drains a topic into the DLQ.
    """
    if isinstance(exc, PermanentError):
        return Failure.POISON
    return Failure.ATTEMPT if reachable else Failure.OUTAGE


# A dependency (database, broker) is unavailable or too slow to answer: the request may be retried as is.
_UNAVAILABLE = (
    OSError,  # connection refused/reset, TimeoutError (asyncpg pool acquire and command timeouts)
    asyncpg.exceptions.PostgresConnectionError,  # ConnectionDoesNotExist, ConnectionFailure, ...
    asyncpg.exceptions.OperatorInterventionError,  # AdminShutdown, CrashShutdown, CannotConnectNow, canceled
    asyncpg.exceptions.TooManyConnectionsError,
    KafkaConnectionError,
    KafkaTimeoutError,
)


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that say "try again shortly", not "this request is wrong" (HTTP 503)."""
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return "closed" in str(exc)  # a dead pooled connection; other interface errors are our bugs
    return isinstance(exc, _UNAVAILABLE)
