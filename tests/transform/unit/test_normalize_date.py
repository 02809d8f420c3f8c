from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from transform.domain.normalize import NormalizationError, normalize_date

SEPT_17 = date(2023, 9, 17)


@pytest.mark.parametrize(
    "raw",
    [
        "2023-09-17",
        "2023/9/17",
        "2023.9.17",
        "2023年9月17日",
        "2023 年 9 月 17 日",
        "2023年09月17",
        "20230917",
        20230917,
        "2023-09-17 08:30:00",
        "2023-09-17 8:30",
        "2023/09/17 23:59:59.997",
        "2023-09-17T08:30:00Z",
        "2023-09-17T08:30:00+08:00",
        "２０２３－０９－１７",
        "２０２３年９月１７日",
        " 2023-09-17\u3000",
        SEPT_17,
        datetime(2023, 9, 17, 23, 59),
    ],
)
def test_accepted_spellings_all_mean_the_same_day(raw: object) -> None:
    assert normalize_date(raw) == SEPT_17


@pytest.mark.parametrize(
    "raw",
    [
        "2023-09-16T16:00:00Z",
        "2023-09-16T16:00:00+00:00",
        datetime(2023, 9, 16, 17, 0, tzinfo=UTC),
        datetime(2023, 9, 17, 1, 0, tzinfo=timezone(timedelta(hours=9))),
    ],
)
def test_times_with_an_offset_are_read_as_china_local_dates(raw: object) -> None:
    assert normalize_date(raw) == SEPT_17


@pytest.mark.parametrize("raw", [None, "", "  ", "NULL", "None"])
def test_empty_dates_are_none(raw: object) -> None:
    assert normalize_date(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "2023-02-30",
        "2023-13-01",
        "2023年2月29日",
        "20230230",
        "0000-01-01",
        "2023-09-17 24:00",
        "2023-09-17 08:61",
        "2023-9/17",
        "17/09/2023",
        "09-17",
        "abc",
        "2023-09-17'; DROP TABLE x;--",
        "20230917.0",
        45186,
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_anything_else_is_an_error_not_a_guess(raw: object) -> None:
    with pytest.raises(NormalizationError):
        normalize_date(raw)


def test_the_error_explains_itself_in_chinese_and_english() -> None:
    with pytest.raises(NormalizationError) as caught:
        normalize_date("2023-02-30")
    assert "不存在的日期" in caught.value.zh
    assert "impossible date" in caught.value.en
    assert "2023-02-30" in str(caught.value)
