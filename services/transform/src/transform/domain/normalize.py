"""Normalisation of single values read from the local hetong table.

Each function returns a normalised value, None for "empty", or raises NormalizationError so
the caller can record the problem; no value is dropped or guessed silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, DecimalException
from functools import lru_cache

_EMPTY_WORDS = frozenset({"", "None", "null", "NULL"})
# Excel and CSV exports leave these invisible marks in headers and values. They are removed
# before NFKC so that the result is stable; U+200D stays because emoji sequences need it.
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b")
CENT = Decimal("0.01")
# GETDATE() in the local SQL Server gives naive China time, so dates are read in UTC+8.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

_TIME = (
    r"(?:[ T](?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d)(?:\.\d{1,6})?)?"
    r" ?(?P<zone>Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?"
)
_DATE_FORMS = tuple(
    re.compile(form + _TIME, re.IGNORECASE)
    for form in (
        r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})",
        r"(?P<year>\d{4}) ?年 ?(?P<month>\d{1,2}) ?月 ?(?P<day>\d{1,2}) ?日?",
        r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})",
    )
)
# Group separators must group by three, so a typo such as "12,34" is an error, not 1234.
_NUMBER = r"[+-]?(?:\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d{1,3})?"
_AMOUNT = re.compile(
    rf"(?:¥|RMB|CNY|人民币)? ?(?P<number>{_NUMBER}) ?(?P<scale>万|亿)? ?(?:元|圆)?", re.IGNORECASE
)
_SCALES = {"万": 4, "亿": 8}
_QUANTITY = re.compile(r"(?P<number>[+-]?\d+(?:\.\d+)?) ?(?:支|根|套|个|件|只|条|pcs|pc)?", re.I)


@dataclass(frozen=True)
class _NumberForm:
    pattern: re.Pattern[str]
    zh: str
    en: str


_AMOUNT_FORM = _NumberForm(_AMOUNT, "金额", "amount")
_QUANTITY_FORM = _NumberForm(_QUANTITY, "数量", "quantity")


class NormalizationError(ValueError):
    """A value that cannot be normalised; the message is Chinese / English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


def normalize_text(value: object) -> str | None:
    """NFKC, trimmed, inner whitespace collapsed to one space; empty markers become None."""
    if value is None:
        return None
    text = value if type(value) is str else str(value)
    # Short texts repeat across a table's lines (units, statuses, parties, types, column names): remember them.
    return _normalize_short(text) if len(text) <= _CACHED_CHARS else _normalize(text)


# One imported line normalises ~30 values; this was 61 % of transform's standardize (bench profile, issue 12).
_CACHED_CHARS = 64


def _normalize(text: str) -> str | None:
    if not text.isascii():  # NFKC and the invisible marks leave ASCII unchanged
        if "\ufeff" in text or "\u200b" in text:
            text = text.translate(_INVISIBLE)
        text = unicodedata.normalize("NFKC", text)
    collapsed = " ".join(text.split())
    return None if collapsed in _EMPTY_WORDS else collapsed


_normalize_short = lru_cache(maxsize=16_384)(_normalize)


def normalize_date(value: object) -> date | None:
    """A calendar date in China local time, from the spellings the local system produces."""
    if isinstance(value, datetime):
        return _china_date(value)
    if isinstance(value, date):
        return value
    text = normalize_text(value)
    return None if text is None else _date_of_text(text)


@lru_cache(
    maxsize=4096
)  # an import's lines share their dates; the patterns were 5 µs a date (bench G4 profile)
def _date_of_text(text: str) -> date:
    match = next((m for form in _DATE_FORMS if (m := form.fullmatch(text))), None)
    if match is None:
        raise NormalizationError(f"无法识别的日期: {text!r}", f"unrecognised date: {text!r}")
    return _date_from(match, text)


def _date_from(match: re.Match[str], text: str) -> date:
    year, month, day, hour, minute, second = (
        int(match[name] or 0) for name in ("year", "month", "day", "hour", "minute", "second")
    )
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=_zone(match["zone"]))
        return _china_date(moment)
    except (ValueError, OverflowError):
        raise NormalizationError(f"不存在的日期: {text!r}", f"impossible date: {text!r}") from None


def _china_date(moment: datetime) -> date:
    # An explicit offset is converted, so a local midnight sent as "…T16:00:00Z" keeps its day.
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(CHINA_TZ).date()


def _zone(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text.upper() == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if text[0] == "-" else offset)


def normalize_amount(value: object) -> Decimal | None:
    """Yuan as a Decimal rounded half-up to the fen (0.01)."""
    number = _number(value, _AMOUNT_FORM)
    if number is None:
        return None
    if not number.is_finite():
        raise NormalizationError(f"金额不是有限数: {value!r}", f"amount is not finite: {value!r}")
    try:
        return number.quantize(CENT, rounding=ROUND_HALF_UP)
    except DecimalException:
        raise NormalizationError(f"金额超出范围: {value!r}", f"amount out of range: {value!r}") from None


def normalize_quantity(value: object) -> int | None:
    """A whole, non-negative number of rolls; a unit word such as 支 may follow it."""
    number = _number(value, _QUANTITY_FORM)
    if number is None:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        raise NormalizationError(f"数量不是整数: {value!r}", f"quantity is not whole: {value!r}")
    if number < 0:
        raise NormalizationError(f"数量为负数: {value!r}", f"quantity is negative: {value!r}")
    return int(number)


def _number(value: object, form: _NumberForm) -> Decimal | None:
    # bool is an int subclass; True as an amount is a bug upstream, not 1 yuan.
    if isinstance(value, bool):
        raise NormalizationError(f"{form.zh}不能是布尔值: {value!r}", f"{form.en} is a boolean: {value!r}")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # repr is the shortest round-trip form: 1234.5, not 1234.49999…
    text = normalize_text(value)
    return None if text is None else _parse_number(text, form)


def _parse_number(text: str, form: _NumberForm) -> Decimal:
    match = form.pattern.fullmatch(text)
    if match is None:
        raise NormalizationError(f"无法识别的{form.zh}: {text!r}", f"unrecognised {form.en}: {text!r}")
    number = Decimal(match["number"].replace(",", "").replace(" ", ""))
    scale = match.groupdict().get("scale")
    return number if scale is None else number.scaleb(_SCALES[scale])
