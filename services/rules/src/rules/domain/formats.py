"""auto_fix_format: values are cleaned before they are compared, merged or pushed. Pure."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

# The seed's change detector treats these as "no value"; so do we, whatever the source.
_EMPTY_TEXT = frozenset({"", "none", "null"})
_PHONE_NOISE = re.compile(r"[\s\-().·•_/\\]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")
_TRUE = frozenset({"true", "1", "yes", "y", "是", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "f"})
PERSONAL_WORDS = ("先生", "女士", "老板", "小姐")


def is_empty(value: object) -> bool:
    """None, '', 'None', 'null' (any case, any surrounding whitespace) are empty; False and 0 are values."""
    return value is None or (isinstance(value, str) and value.strip().casefold() in _EMPTY_TEXT)


def normalize_phone(value: str) -> str:
    """Full-width digits, spaces, dashes and a +86/0086 prefix are noise: '+86 138-0013 8000' → '13800138000'."""
    digits = _settled(lambda v: _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", v)), value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix) :]
    if digits.startswith("86") and len(digits) == 13:
        return digits[2:]
    return digits


def is_mobile(value: str) -> bool:
    """The 11-digit mainland mobile number the ERP requires for `mobile`."""
    return _MOBILE.fullmatch(value) is not None


def is_email(value: str) -> bool:
    return _EMAIL.fullmatch(value) is not None


def _settled(step: Callable[[str], str], value: str) -> str:
    """Apply `step` until nothing changes: NFKC after removing a space can compose characters anew."""
    for _ in range(4):
        nxt = step(value)
        if nxt == value:
            break
        value = nxt
    return value


def _tidy(value: str) -> str:
    return unicodedata.normalize("NFKC", " ".join(unicodedata.normalize("NFKC", value).split()))


def normalize_company(value: str) -> str:
    """NFKC (full-width letters and brackets → half-width), one space at most, none between CJK characters."""
    return _settled(lambda v: _CJK_GAP.sub("", _tidy(v)), value)


def normalize_text(value: str) -> str:
    return _settled(_tidy, value)


def to_int(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 2**53:  # NaN and huge floats are no count
        return round(value)
    if isinstance(value, str):
        try:
            return round(float(unicodedata.normalize("NFKC", value).strip()))
        except (ValueError, OverflowError):
            return None
    return None


def to_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().casefold()
        return True if word in _TRUE else False if word in _FALSE else None
    return None


def clean_text(field: str, value: object, auto_fix: bool) -> str | None:
    if is_empty(value):
        return None
    text = str(value).replace("\x00", "").strip()
    if not text:
        return None
    if not auto_fix:
        return text
    if field == "phone":
        return normalize_phone(text) or None
    if field == "company_name":
        return normalize_company(text) or None
    if field == "email":
        return _settled(lambda v: unicodedata.normalize("NFKC", v.replace(" ", "").lower()), text) or None
    return normalize_text(text) or None


def is_personal_name(company_name: str) -> bool:
    """'张先生' names a person, not a company (quality rule of seed 004)."""
    return any(word in company_name for word in PERSONAL_WORDS)


def plain(value: Any) -> Any:
    """A value any JSON encoder and PostgreSQL jsonb accept: NaN, 2**70 or a datetime become text."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        if "\\u0000" in text:  # jsonb cannot hold U+0000
            text = text.replace("\\u0000", "")
            value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return str(value)[:2000]
    if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63 for v in _numbers(value)):
        return text[:2000]
    return value


def _numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value]
