"""The envelope every event travels in (ARCHITECTURE.md, "Topics")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

P = TypeVar("P", bound=BaseModel)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[P]):
    """Metadata shared by all events, plus the payload. Consumers ignore unknown fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        description="Stable id: assigned once when the outbox row is written; the inbox key",
    )
    event_type: str = Field(description="Payload model name, e.g. HetongRowChanged")
    occurred_at: datetime = Field(default_factory=utcnow)
    schema_version: int = Field(default=1, ge=1)
    source: str = Field(description="Producing service, e.g. ingest")
    correlation_id: str = Field(description="Request or upstream event id this event descends from")
    payload: P
