"""apply_reports on fakes: a report moves its line's state, progress and feed; a superseded one does nothing."""

from __future__ import annotations

from decimal import Decimal

from tests.transform.fakes import FakeTransformUnitOfWork, line_event, report_event
from transform.domain.mapping import DEFAULT_MAPPING
from transform.domain.routes import DEFAULT_CATALOG, DEFAULT_ROUTES, DEFAULT_TYPE_RULES, catalog_from_rows
from transform.service_layer.configuration import Configuration
from transform.service_layer.lines import LineChange, apply_lines
from transform.service_layer.progress import ReportChange, apply_reports

CONFIG = Configuration(DEFAULT_MAPPING, DEFAULT_CATALOG)


async def _with_line() -> FakeTransformUnitOfWork:
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, [LineChange(line_event("HT1"), "seed")], CONFIG)
    return uow


async def test_a_report_moves_the_line_and_announces_its_full_state_in_the_feed() -> None:
    uow = await _with_line()
    before = uow.tables.progress[("HT1", "P1")].percentage
    report = report_event("HT1", "喷砂", "已完成")
    await apply_reports(uow, [ReportChange(report, report.update_time)], CONFIG)

    assert uow.committed == 2
    assert uow.locks.taken[-1] == "contracts:HT1"
    (item,) = uow.tables.feed
    assert (item.contract_no, item.product_id, item.updated_by) == ("HT1", "P1", "worker_zhang")
    assert item.processes["喷砂"] == {
        "status": "已完成",
        "updated_by": "worker_zhang",
        "updated_at": "2026-12-01T08:00:00Z",
        "source": "report",
    }
    assert item.processes["基辊加工"]["source"] == "upload"  # full state, not a diff
    assert uow.tables.progress[("HT1", "P1")].percentage > before
    assert item.progress_percentage == uow.tables.progress[("HT1", "P1")].percentage


async def test_an_older_report_version_is_superseded_and_changes_nothing() -> None:
    uow = await _with_line()
    newer = report_event("HT1", "喷砂", "已完成", version=2)
    older = report_event("HT1", "喷砂", "暂停", version=1)
    await apply_reports(uow, [ReportChange(newer, newer.update_time)], CONFIG)
    await apply_reports(uow, [ReportChange(older, older.update_time)], CONFIG)

    assert len(uow.tables.feed) == 1
    assert uow.tables.states[("HT1", "P1")]["喷砂"].reported_status == "已完成"
    assert uow.committed == 3  # the superseded batch still commits (its inbox row)


async def test_a_report_that_repeats_the_lines_state_owes_the_feed_nothing() -> None:
    uow = await _with_line()
    first = report_event("HT1", "喷砂", "已完成", version=1)
    again = report_event("HT1", "喷砂", "已完成", version=2)
    await apply_reports(uow, [ReportChange(first, first.update_time)], CONFIG)
    await apply_reports(uow, [ReportChange(again, again.update_time)], CONFIG)

    assert len(uow.tables.feed) == 1


async def test_a_report_naming_a_process_by_an_alias_lands_on_the_catalogues_name() -> None:
    catalog = catalog_from_rows(
        DEFAULT_ROUTES, DEFAULT_TYPE_RULES, DEFAULT_CATALOG.default_type, process_names=[("喷沙", "喷砂")]
    )
    config = Configuration(DEFAULT_MAPPING, catalog)
    uow = FakeTransformUnitOfWork()
    await apply_lines(uow, [LineChange(line_event("HT1"), "seed")], config)
    report = report_event("HT1", "喷沙", "已完成")
    await apply_reports(uow, [ReportChange(report, report.update_time)], config)

    assert ("HT1", "P1", "喷砂") in uow.tables.reports
    assert uow.tables.states[("HT1", "P1")]["喷砂"].reported_status == "已完成"
    assert "喷沙" not in uow.tables.states[("HT1", "P1")]
    assert uow.tables.progress[("HT1", "P1")].percentage > Decimal(0)
