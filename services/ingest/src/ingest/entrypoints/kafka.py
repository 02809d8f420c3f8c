"""ingest's subscriber: transform's process catalogue, decoded and handed to one handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from pydantic import ValidationError

from common.delivery import Delivery, PermanentError
from common.events.envelope import Envelope
from common.events.transform import ProcessChanged
from ingest.service_layer.processes import apply_process_changes

if TYPE_CHECKING:
    import asyncpg

    from ingest.service_layer.ports import UnitOfWork

Apply = Callable[["asyncpg.Connection", list[Delivery]], Awaitable[None]]
# The unit of work inside the inbox consumer's transaction (bootstrap binds it; the consumer commits).
UowOn = Callable[["asyncpg.Connection"], "UnitOfWork"]


def _decode(delivery: Delivery) -> ProcessChanged:
    try:
        return Envelope[ProcessChanged].model_validate(orjson.loads(delivery.value)).payload
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise PermanentError(f"undecodable ProcessChanged: {str(exc)[:300]}") from exc


def on_process_changed(uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        await apply_process_changes(uow_on(conn), [_decode(d) for d in batch])

    return apply
