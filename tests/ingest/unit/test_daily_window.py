"""Seed 000's daily row limit counts per China day (UTC+8): the window and the Retry-After to its end."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.domain.daily import china_day


def test_the_china_day_starts_at_16_utc_of_the_day_before() -> None:
    start, retry = china_day(datetime(2026, 12, 4, 15, 59, 59, tzinfo=UTC))  # 23:59:59 in Shanghai
    assert start == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert retry == 1


def test_a_new_china_day_begins_at_local_midnight() -> None:
    start, retry = china_day(datetime(2026, 12, 4, 16, 0, 0, tzinfo=UTC))  # 00:00:00 in Shanghai
    assert start == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert retry == 86400


def test_retry_after_rounds_up_so_a_retry_never_lands_before_midnight() -> None:
    _, retry = china_day(datetime(2026, 12, 4, 15, 59, 58, 500_000, tzinfo=UTC))
    assert retry == 2
