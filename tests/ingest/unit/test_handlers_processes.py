"""The process-catalogue subscriber's handler on fakes: only a higher version applies, a rename moves the
progress states, and the joined unit of work is committed."""

from __future__ import annotations

from datetime import UTC, datetime

from common.events.transform import ProcessChanged
from ingest.service_layer.processes import apply_process_changes
from tests.ingest.fakes import FakeIngestUnitOfWork, StoredProgress

AT = datetime(2024, 5, 1, tzinfo=UTC)


def _changed(
    version: int, name: str, *, process_id: int = 7, former: list[str] | None = None
) -> ProcessChanged:
    return ProcessChanged(
        process_id=process_id,
        version=version,
        name=name,
        aliases=[],
        former_names=former or [],
        active=True,
        change="added" if version == 1 else "renamed",
    )


async def test_a_late_or_duplicate_event_changes_nothing() -> None:
    uow = FakeIngestUnitOfWork()
    await apply_process_changes(uow, [_changed(2, "热喷涂"), _changed(1, "喷涂"), _changed(2, "热喷涂")])
    assert uow.store.catalog[7].name == "热喷涂" and uow.store.catalog[7].version == 2
    await apply_process_changes(uow, [_changed(1, "喷涂")])
    assert uow.store.catalog[7].version == 2
    assert uow.committed == 2


async def test_a_rename_moves_progress_states_to_the_new_name() -> None:
    uow = FakeIngestUnitOfWork()
    await apply_process_changes(uow, [_changed(1, "喷涂")])
    uow.store.progress[("HT1", "", "喷涂")] = StoredProgress("已完成", 4, "w", AT)
    await apply_process_changes(uow, [_changed(2, "热喷涂", former=["喷涂"])])
    assert set(uow.store.progress) == {("HT1", "", "热喷涂")}
    assert uow.store.progress[("HT1", "", "热喷涂")].version == 4  # one version sequence
    known = await uow.processes.known()
    assert [(p.name, p.names) for p in known] == [("热喷涂", ("热喷涂", "喷涂"))]


async def test_events_of_several_processes_apply_in_version_order() -> None:
    uow = FakeIngestUnitOfWork()
    batch = [_changed(2, "B2", process_id=2), _changed(1, "A", process_id=1), _changed(1, "B1", process_id=2)]
    await apply_process_changes(uow, batch)
    assert {i: (e.name, e.version) for i, e in uow.store.catalog.items()} == {1: ("A", 1), 2: ("B2", 2)}
