"""Masking personal data before it is logged (DELIVERY.md §11: mask PII)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{3,4}(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    """13800138000 -> 138****8000; 0754-88889999 -> 0754-****9999."""
    return _LANDLINE.sub(r"\1****\2", _MOBILE.sub(r"\1****\2", text))


def mask_value(value: Any) -> Any:
    """Mask phone numbers anywhere inside a JSON-like value."""
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, Mapping):
        return {str(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [mask_value(v) for v in value]
    return value
