"""apply_lines on fakes: what a batch of lines stores, announces and publishes (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from common import topics
from tests.transform.fakes import FakeTransformUnitOfWork, line_event, report_event
from transform.domain.mapping import DEFAULT_MAPPING
from transform.domain.routes import DEFAULT_CATALOG
from transform.service_layer.configuration import Configuration
from transform.service_layer.lines import LineChange, apply_lines
from transform.service_layer.ports import LineHead
from transform.service_layer.progress import ReportChange, apply_reports

CONFIG = Configuration(DEFAULT_MAPPING, DEFAULT_CATALOG)


def _changes(*events: object) -> list[LineChange]:
    return [LineChange(e, "corr") for e in events]  # type: ignore[arg-type]


async def test_a_new_line_is_stored_and_published_as_contract_standardized_in_one_commit() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1")), CONFIG)

    assert uow.committed == 1
    assert uow.tables.heads[("HT1", "P1")] == LineHead(1, deleted=False)
    assert uow.tables.receipts[("HT1", "P1")] == 1
    (event,) = uow.outbox.published
    assert event.topic == topics.TRANSFORM_CONTRACT_STANDARDIZED
    assert event.key == "HT1/P1"
    assert event.envelope.source == "transform"
    assert event.envelope.correlation_id == "corr"
    assert event.envelope.payload.current_process == "喷砂"
    assert event.envelope.payload.progress_percentage > Decimal(0)
    assert uow.locks.taken == ["contracts:HT1"]
    assert uow.tables.feed == []  # the local system's own upload is not echoed to it


async def test_an_older_version_is_superseded_but_its_receipt_is_recorded_and_committed() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1", 3)), CONFIG)
    await apply_lines(uow, _changes(line_event("HT1", 2, 喷砂="已完成")), CONFIG)

    assert uow.committed == 2
    assert uow.tables.heads[("HT1", "P1")].version == 3
    assert uow.tables.states[("HT1", "P1")]["喷砂"].uploaded_status == "进行中"
    assert len(uow.outbox.published) == 1


async def test_of_several_versions_in_one_batch_only_the_newest_is_applied() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1", 2, 喷砂="已完成"), line_event("HT1", 1)), CONFIG)

    (event,) = uow.outbox.published
    assert event.envelope.payload.version == 2
    assert uow.tables.states[("HT1", "P1")]["喷砂"].uploaded_status == "已完成"


async def test_a_report_stored_before_its_line_is_applied_and_announced_once_in_the_feed() -> None:
    uow = FakeTransformUnitOfWork()
    report = report_event("HT1", "热喷涂", "进行中", by="worker_li")
    await apply_reports(uow, [ReportChange(report, report.update_time)], CONFIG)
    assert uow.tables.feed == []  # no line yet: nothing to move

    await apply_lines(uow, _changes(line_event("HT1")), CONFIG)

    (item,) = uow.tables.feed
    assert (item.contract_no, item.updated_by) == ("HT1", "worker_li")
    assert item.processes["热喷涂"]["status"] == "进行中"
    assert uow.tables.states[("HT1", "P1")]["热喷涂"].reported_status == "进行中"


async def test_a_deleted_line_is_announced_once_and_leaves_the_tables() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1")), CONFIG)
    await apply_lines(uow, _changes(line_event("HT1", 2, deleted=True)), CONFIG)
    await apply_lines(uow, _changes(line_event("HT1", 3, deleted=True)), CONFIG)

    assert [i.deleted for i in uow.tables.feed] == [True]
    assert uow.tables.heads[("HT1", "P1")] == LineHead(3, deleted=True)
    assert ("HT1", "P1") not in uow.tables.states
    assert len(uow.outbox.published) == 1  # only the live line was standardized


async def test_a_deleted_line_that_comes_back_is_announced_to_the_feed() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1", 1, deleted=True)), CONFIG)
    await apply_lines(uow, _changes(line_event("HT1", 2)), CONFIG)

    assert [(i.deleted, i.updated_by) for i in uow.tables.feed] == [(True, "agent"), (False, "agent")]


async def test_only_states_with_something_to_say_are_stored() -> None:
    """A line is read with a state per process of every route (10 of 15 blank in an import): issue 12."""
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1")), CONFIG)

    assert set(uow.tables.states[("HT1", "P1")]) == {"基辊加工", "喷砂", "热喷涂"}
    (written,) = uow.tables.lines.values()
    assert {s.process for s in written.states} == {"基辊加工", "喷砂", "热喷涂"}


async def test_a_status_the_clerk_clears_is_stored_cleared() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1")), CONFIG)
    await apply_lines(uow, _changes(line_event("HT1", 2, 喷砂="")), CONFIG)

    assert uow.tables.states[("HT1", "P1")]["喷砂"].uploaded_status is None
    assert uow.tables.progress[("HT1", "P1")].current_process != "喷砂"


async def test_a_report_on_a_process_without_a_stored_state_takes_its_place_in_the_route() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, _changes(line_event("HT1")), CONFIG)
    assert "陶瓷磨削" not in uow.tables.states[("HT1", "P1")]
    report = report_event("HT1", "陶瓷磨削", "进行中")
    await apply_reports(uow, [ReportChange(report, report.update_time)], CONFIG)

    seq = CONFIG.catalog.routes["anilox"].seqs["陶瓷磨削"]
    assert uow.tables.states[("HT1", "P1")]["陶瓷磨削"].seq == seq < 1000


async def test_a_failing_write_commits_nothing_and_publishes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    uow = FakeTransformUnitOfWork()

    async def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(uow.feed, "append", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        async with uow:
            await apply_lines(uow, _changes(line_event("HT1")), CONFIG)

    assert uow.committed == 0
    assert uow.outbox.published == []
