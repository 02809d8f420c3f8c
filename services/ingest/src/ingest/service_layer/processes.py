"""Keep ingest's copy of the process catalogue from transform.process-changed.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.adapters import process_catalog_repository as repo

if TYPE_CHECKING:
    import asyncpg

    from common.events.transform import ProcessChanged


async def apply_process_changes(conn: asyncpg.Connection, events: list[ProcessChanged]) -> None:
    """Only a higher version than the copy holds applies: a duplicate or a late event changes nothing."""
    for e in sorted(events, key=lambda e: (e.process_id, e.version)):
        held = await repo.held(conn, e.process_id)
        if held is not None and held.version >= e.version:
            continue
        if held is not None and held.name != e.name:
            await repo.rename_progress(conn, held.name, e.name)
        await repo.store(conn, e)
