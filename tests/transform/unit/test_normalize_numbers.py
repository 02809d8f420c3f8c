from decimal import Decimal

import pytest

from transform.domain.normalize import (
    NormalizationError,
    normalize_amount,
    normalize_quantity,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("¥1,234.50", "1234.50"),
        ("￥1,234.50", "1234.50"),
        ("¥ 1,234.5", "1234.50"),
        ("1234.5元", "1234.50"),
        ("１２３４．５", "1234.50"),
        (" 1 234 ", "1234.00"),
        ("1,234,567.891", "1234567.89"),
        ("1.2万", "12000.00"),
        ("1.2万元", "12000.00"),
        ("3亿", "300000000.00"),
        ("RMB 800", "800.00"),
        ("-50", "-50.00"),
        ("2.675", "2.68"),
        ("2.665", "2.67"),
        ("0.005", "0.01"),
        ("1.5e3", "1500.00"),
        (1234, "1234.00"),
        (1234.5, "1234.50"),
        (1.005, "1.01"),
        (Decimal("9.999"), "10.00"),
    ],
)
def test_amounts_become_yuan_rounded_half_up_to_the_fen(raw: object, expected: str) -> None:
    result = normalize_amount(raw)
    assert result == Decimal(expected)
    assert result is not None
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", [None, "", " ", "NULL"])
def test_empty_amounts_are_none(raw: object) -> None:
    assert normalize_amount(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-Infinity",
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        "12,34",
        "1,2345",
        "1元2",
        "1.2.3",
        "$100",
        "1e400",
        "9" * 40,
        True,
        "'; DROP TABLE x;--",
    ],
)
def test_unusable_amounts_are_errors(raw: object) -> None:
    with pytest.raises(NormalizationError):
        normalize_amount(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4支", 4),
        ("4 根", 4),
        ("12套", 12),
        ("６", 6),
        ("６支", 6),
        ("4.0", 4),
        (4.0, 4),
        (4, 4),
        (Decimal("4.00"), 4),
        ("0", 0),
        ("-0", 0),
        ("3PCS", 3),
    ],
)
def test_quantities_are_whole_numbers(raw: object, expected: int) -> None:
    result = normalize_quantity(raw)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("raw", [None, "", "null"])
def test_empty_quantities_are_none(raw: object) -> None:
    assert normalize_quantity(raw) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (4.5, "not whole"),
        ("4.5支", "not whole"),
        ("-1", "negative"),
        (-3, "negative"),
        ("4米", "unrecognised"),
        ("four", "unrecognised"),
        ("1,000", "unrecognised"),
        (float("nan"), "not whole"),
        (True, "boolean"),
    ],
)
def test_unusable_quantities_are_errors_with_the_reason(raw: object, reason: str) -> None:
    with pytest.raises(NormalizationError, match=reason):
        normalize_quantity(raw)
