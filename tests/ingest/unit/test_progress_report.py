"""Seed 000's progress body, and the ways it can be wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.domain.progress import ReportError, parse_report


def test_the_seed_body_parses() -> None:
    report = parse_report(
        "HT2023001",
        {"热喷涂": "已完成", "updated_by": "miniprogram", "update_time": "2023-09-17T15:30:00.000Z"},
    )
    assert report.contract_no == "HT2023001"
    assert [(u.process, u.status) for u in report.updates] == [("热喷涂", "已完成")]
    assert report.updated_by == "miniprogram"
    assert report.update_time == datetime(2023, 9, 17, 15, 30, tzinfo=UTC)
    assert report.product_id is None and report.expected_version is None


def test_optional_line_and_version_are_read() -> None:
    report = parse_report("HT1", {"检验": "进行中", "updated_by": "w", "产品ID": "P1", "expected_version": 2})
    assert (report.product_id, report.expected_version) == ("P1", 2)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([], "invalid_request"),
        ({"热喷涂": "已完成"}, "invalid_updated_by"),
        ({"热喷涂": "已完成", "updated_by": ""}, "invalid_updated_by"),
        ({"热喷涂": "已完成", "updated_by": 5}, "invalid_updated_by"),
        ({"热喷涂": "差不多", "updated_by": "w"}, "unknown_status"),
        ({"热喷涂": 1, "updated_by": "w"}, "unknown_status"),
        ({"updated_by": "w"}, "no_process"),
        ({"热喷涂": "已完成", "updated_by": "w", "update_time": "yesterday"}, "invalid_update_time"),
        ({"热喷涂": "已完成", "updated_by": "w", "update_time": 123}, "invalid_update_time"),
        ({"热喷涂": "已完成", "updated_by": "w", "expected_version": "1"}, "invalid_expected_version"),
        ({**{f"p{i}": "已完成" for i in range(21)}, "updated_by": "w"}, "too_many_processes"),
    ],
)
def test_bad_reports_name_what_is_wrong(body: object, code: str) -> None:
    with pytest.raises(ReportError) as caught:
        parse_report("HT1", body)
    assert caught.value.code == code


def test_naive_times_are_taken_as_utc() -> None:
    report = parse_report("HT1", {"检验": "已完成", "updated_by": "w", "update_time": "2023-09-17T08:00:00"})
    assert report.update_time.tzinfo is UTC


def _at(offset_s: float) -> dict[str, str]:
    when = datetime(2024, 5, 1, 10, tzinfo=UTC) + timedelta(seconds=offset_s)
    return {"热喷涂": "已完成", "updated_by": "w", "update_time": when.isoformat()}


NOW = datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_a_report_dated_beyond_the_allowed_skew_is_refused() -> None:
    with pytest.raises(ReportError) as caught:
        parse_report("HT1", _at(301), now=NOW, max_skew=timedelta(minutes=5))
    assert caught.value.code == "update_time_in_future"
    assert "时钟" in str(caught.value)
    assert "clock" in str(caught.value)


def test_a_report_within_the_skew_or_in_the_past_is_kept() -> None:
    for offset in (300, 0, -86400):
        report = parse_report("HT1", _at(offset), now=NOW, max_skew=timedelta(minutes=5))
        assert report.update_time == NOW + timedelta(seconds=offset)
