"""The feed's view of a line (full effective state) and when a line write owes the feed an item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from transform.domain.line_feed import newest_new_report, processes_view
from transform.domain.precedence import ProcessState, Report, after_upload, overlay

T0 = datetime(2024, 1, 1, 8, tzinfo=UTC)


def _uploaded() -> dict[str, ProcessState]:
    return {
        "基辊加工": after_upload(None, "基辊加工", 10, "已完成", T0, "local-1"),
        "喷砂": after_upload(None, "喷砂", 30, "进行中", T0, "local-1"),
        "热喷涂": after_upload(None, "热喷涂", 40, None, T0, "local-1"),
    }


def test_the_view_names_every_process_with_a_status_and_where_it_came_from() -> None:
    states = overlay(
        _uploaded(),
        [Report("P1", "喷砂", "已完成", T0 + timedelta(hours=1), "worker_zhang", T0 + timedelta(hours=1))],
        "P1",
    )
    assert processes_view(states.values()) == {
        "基辊加工": {
            "status": "已完成",
            "updated_by": "local-1",
            "updated_at": "2024-01-01T08:00:00Z",
            "source": "upload",
        },
        "喷砂": {
            "status": "已完成",
            "updated_by": "worker_zhang",
            "updated_at": "2024-01-01T09:00:00Z",
            "source": "report",
        },
    }


def test_a_report_the_line_already_held_owes_no_item() -> None:
    report = Report("P1", "喷砂", "已完成", T0 + timedelta(hours=1), "w", T0 + timedelta(hours=1))
    held = overlay(_uploaded(), [report], "P1")
    assert newest_new_report(held, overlay(held, [report], "P1")) is None


def test_reports_applied_for_the_first_time_owe_one_item_named_after_the_latest_update_time() -> None:
    reports = [
        Report("P1", "喷砂", "已完成", T0 + timedelta(hours=2), "early_clock", T0 + timedelta(hours=1)),
        Report(None, "热喷涂", "进行中", T0 + timedelta(hours=1), "late_clock", T0 + timedelta(hours=3)),
    ]
    note = newest_new_report(_uploaded(), overlay(_uploaded(), reports, "P1"))
    assert note is not None
    assert (note.updated_by, note.updated_at) == ("early_clock", T0 + timedelta(hours=2))
