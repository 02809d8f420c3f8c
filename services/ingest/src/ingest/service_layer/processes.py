"""Keep ingest's copy of the process catalogue from transform.process-changed.v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.events.transform import ProcessChanged
    from ingest.service_layer.ports import UnitOfWork


async def apply_process_changes(uow: UnitOfWork, events: list[ProcessChanged]) -> None:
    """Only a higher version than the copy holds applies: a duplicate or a late event changes nothing."""
    async with uow:
        for e in sorted(events, key=lambda e: (e.process_id, e.version)):
            held = await uow.processes.held(e.process_id)
            if held is not None and held.version >= e.version:
                continue
            if held is not None and held.name != e.name:
                await uow.processes.rename_progress(held.name, e.name)
            await uow.processes.store(e)
        await uow.commit()
