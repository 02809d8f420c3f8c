"""Typed events for the service layer: each Kafka record decoded once into its topic's envelope.

The inbox consumer decodes before it opens a transaction, so a message that can never decode is dead-lettered
on its own at once, and handlers receive `Received[P]` (the typed envelope plus the record it came in),
never bytes. Why not FastStream's own argument validation: it validates a whole batch at once, and one bad
message would fail the batch before our code could dead-letter it alone (docs/DELIVERY.md §6).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from common.delivery import Delivery, PermanentError
from common.events.envelope import Envelope

if TYPE_CHECKING:
    import uuid

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Received(Generic[P]):
    envelope: Envelope[P]
    delivery: Delivery

    @property
    def payload(self) -> P:
        return self.envelope.payload

    @property
    def event_id(self) -> uuid.UUID:
        """The inbox key: the record's `event_id` header, which the outbox copied from the envelope."""
        return self.delivery.event_id or self.envelope.event_id


Decode = Callable[[Delivery], Received[Any]]


def envelope_decoder(model: type[P], *, drop_nul: bool = False) -> Callable[[Delivery], Received[P]]:
    """Decode a record into `Envelope[model]`, or raise PermanentError (dead-lettered, never retried).

    `drop_nul`: remove U+0000 from every string first (PostgreSQL text cannot hold it), for consumers that
    store free text and would rather keep the event than dead-letter it for one invisible character.
    """
    envelope_type: type[Envelope[P]] = Envelope[model]  # type: ignore[valid-type]

    def decode(delivery: Delivery) -> Received[P]:
        try:
            data = orjson.loads(delivery.value)
            envelope = envelope_type.model_validate(_without_nul(data) if drop_nul else data)
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise PermanentError(f"undecodable {model.__name__}: {str(exc)[:300]}") from exc
        return Received(envelope, delivery)

    return decode


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value
