"""ingest's subscriber: transform's process catalogue, already decoded by the inbox consumer, handed to one handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ingest.service_layer.processes import apply_process_changes

if TYPE_CHECKING:
    import asyncpg

    from common.events.transform import ProcessChanged
    from common.received import Received
    from ingest.service_layer.ports import UnitOfWork

Apply = Callable[["asyncpg.Connection", "list[Received[ProcessChanged]]"], Awaitable[None]]
# The unit of work inside the inbox consumer's transaction (bootstrap binds it; the consumer commits).
UowOn = Callable[["asyncpg.Connection"], "UnitOfWork"]


def on_process_changed(uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[ProcessChanged]]) -> None:
        await apply_process_changes(uow_on(conn), [r.payload for r in batch])

    return apply
