"""A factory line as the cloud sees it: JSON-safe values, content hash, digest form. Pure (no I/O)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

CONTRACT_NO = "合同编号"
PRODUCT_ID = "产品ID"
# seed 000's bookkeeping columns (queue mode): local state, never uploaded, never hashed.
BOOKKEEPING = frozenset({"sync_status", "sync_time", "cloud_contract_id", "last_sync_hash"})

Key = tuple[str, str]
Row = dict[str, Any]


_PLAIN = frozenset({str, int, float})  # exact types json_value returns unchanged (bool is not one)


def json_value(value: object) -> Any:
    """What the cloud accepts (text or a number); dates and decimals travel as text."""
    if value is None or isinstance(value, (str, int, float)):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)


def upload_row(raw: Mapping[str, Any]) -> Row:
    """The row as uploaded: bookkeeping dropped, empty values dropped (NULL and '' mean the same)."""
    out: Row = {}
    for column, value in raw.items():
        v = value if type(value) in _PLAIN else json_value(value)  # most values are text: skip the call
        if v is not None and v != "" and column not in BOOKKEEPING:
            out[column] = v
    return out


def key_of(row: Mapping[str, Any]) -> Key:
    return (str(row.get(CONTRACT_NO) or "").strip(), str(row.get(PRODUCT_ID) or "").strip())


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical(row: Mapping[str, Any]) -> str:
    """json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")), one encoder reused."""
    return _CANONICAL.encode(row)


def upload_form(raw: Mapping[str, Any]) -> tuple[Row, str]:
    """The uploaded form and its content hash, computed once (a 50 000-line import pays for it once)."""
    form = upload_row(raw)
    return form, hashlib.sha256(canonical(form).encode()).hexdigest()


def row_hash(row: Mapping[str, Any]) -> str:
    """Change detection: sha256 of the uploaded form."""
    return upload_form(row)[1]


def digest_line(row: Mapping[str, Any], cloud_status: Mapping[str, str]) -> str:
    """TEAM.md contract point 5: process columns replaced by the cloud's effective status (keyed by the cloud's
    process name, as the cloud digests it), then sha256."""
    d = upload_row(row)
    d.update({column: status for column, status in cloud_status.items() if status not in (None, "")})
    return hashlib.sha256(canonical(d).encode()).hexdigest()


def digest_contract(line_hashes: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(line_hashes)).encode()).hexdigest()
