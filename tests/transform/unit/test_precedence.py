"""The newer word wins between the local system's upload and a worker's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from transform.domain.precedence import Report, after_report, after_upload, overlay

T0 = datetime(2024, 1, 1, 8, tzinfo=UTC)


def test_an_upload_alone_counts() -> None:
    assert after_upload(None, "热喷涂", 40, "进行中", T0).effective == "进行中"


def test_a_later_report_overrides_the_upload() -> None:
    state = after_report(
        after_upload(None, "热喷涂", 40, "进行中", T0),
        "热喷涂",
        40,
        "已完成",
        T0 + timedelta(hours=1),
        "worker_zhang",
    )
    assert state.effective == "已完成"
    assert state.reported_by == "worker_zhang"


def test_re_uploading_the_same_stale_value_does_not_undo_a_report() -> None:
    uploaded = after_upload(None, "热喷涂", 40, "进行中", T0)
    reported = after_report(uploaded, "热喷涂", 40, "已完成", T0 + timedelta(hours=1), "w")
    again = after_upload(reported, "热喷涂", 40, "进行中", T0 + timedelta(hours=2))
    assert again.uploaded_at == T0
    assert again.effective == "已完成"


def test_a_changed_upload_after_the_report_wins() -> None:
    reported = after_report(
        after_upload(None, "热喷涂", 40, "进行中", T0), "热喷涂", 40, "已完成", T0 + timedelta(hours=1), "w"
    )
    changed = after_upload(reported, "热喷涂", 40, "返工", T0 + timedelta(hours=2))
    assert changed.effective == "返工"


def test_overlay_applies_only_reports_for_this_line_or_the_whole_contract() -> None:
    reports = [Report(None, "检验", "已完成", T0, "a"), Report("P2", "镀铬", "进行中", T0, "b")]
    states = overlay({}, reports, "P1")
    assert set(states) == {"检验"}
    assert states["检验"].effective == "已完成"


def test_overlay_keeps_the_newest_report_and_is_idempotent() -> None:
    old, new = Report(None, "检验", "进行中", T0, "a"), Report(None, "检验", "已完成", T0 + timedelta(1), "b")
    once = overlay({}, [new, old], "P1")
    assert once["检验"].effective == "已完成"
    assert overlay(once, [new, old], "P1") == once


def test_a_report_is_compared_with_an_upload_by_when_ingest_received_both() -> None:
    """Like with like: the phone said 10:00 (its clock runs ahead), ingest received it at 08:30; the upload
    received at 09:00 is the newer word."""
    reported = after_report(
        after_upload(None, "热喷涂", 40, "未开始", T0),
        "热喷涂",
        40,
        "已完成",
        T0 + timedelta(hours=2),
        "w",
        T0 + timedelta(minutes=30),
    )
    changed = after_upload(reported, "热喷涂", 40, "进行中", T0 + timedelta(hours=1), "local")
    assert changed.effective == "进行中"
    assert reported.effective == "已完成"


def test_between_reports_the_one_ingest_received_last_wins_whatever_the_phones_say() -> None:
    reports = [
        Report("P1", "热喷涂", "已完成", T0 + timedelta(hours=5), "fast_clock", T0),
        Report(None, "热喷涂", "返工", T0, "right_clock", T0 + timedelta(minutes=1)),
    ]
    assert overlay({}, reports, "P1")["热喷涂"].effective == "返工"
