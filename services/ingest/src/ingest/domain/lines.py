"""A `hetong` line as the local system sends it: checked, keyed and hashed. Pure."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

CONTRACT_NO = "合同编号"
PRODUCT_ID = "产品ID"
# Local bookkeeping columns (seed 000 ALTER TABLE) say nothing about the contract itself.
BOOKKEEPING = frozenset({"sync_status", "sync_time", "cloud_contract_id", "last_sync_hash"})
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 4000
MAX_COLUMNS = 200


@dataclass(frozen=True, slots=True)
class Line:
    index: int
    contract_no: str
    product_id: str
    row: dict[str, Any]
    content_hash: str


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    reason: str
    message: str
    contract_no: str | None = None
    product_id: str | None = None


def normalize_key(value: object) -> str:
    """Full-width forms and stray whitespace must not make two keys for one line."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


# A table has a few dozen column names, repeated on every line of every batch (bench profile, issue 12).
_column_key = lru_cache(maxsize=4096)(normalize_key)


def _canonical_value(v: object) -> object:
    if not isinstance(v, str):
        return v
    return v.strip() if v.isascii() else unicodedata.normalize("NFKC", v).strip()  # NFKC keeps ASCII as is


def content_hash(row: dict[str, Any]) -> str:
    """SHA-256 over the business columns, canonically serialised (keys sorted, NFKC)."""
    keyed = {_column_key(k) if type(k) is str else normalize_key(k): v for k, v in row.items()}
    canonical = {k: _canonical_value(v) for k, v in keyed.items() if k not in BOOKKEEPING}
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _value_problem(column: str, value: object) -> str | None:
    if isinstance(value, (dict, list)):
        return f"列 {column} 的值必须是文本或数字 / column {column} must be text or a number"
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return f"列 {column} 超过 {MAX_VALUE_CHARS} 字符 / column {column} exceeds {MAX_VALUE_CHARS} chars"
    if isinstance(value, str) and "\x00" in value:
        return f"列 {column} 含有 NUL 字符 / column {column} contains a NUL character"
    return None


def parse_key(index: int, raw: dict[str, Any]) -> tuple[str, str] | Rejection:
    """The line's (合同编号, 产品ID), normalised, or why they cannot name a line."""
    contract_no, product_id = normalize_key(raw.get(CONTRACT_NO)), normalize_key(raw.get(PRODUCT_ID))
    for name, value in ((CONTRACT_NO, contract_no), (PRODUCT_ID, product_id)):
        if not value:
            return Rejection(
                index,
                "missing_field",
                f"缺少 {name} (文本) / {name} is required text",
                contract_no or None,
                product_id or None,
            )
        if len(value) > MAX_KEY_CHARS or "/" in value or "\x00" in value:
            return Rejection(
                index,
                "invalid_key",
                f"{name} 不合法 / {name} is too long or has '/' or NUL",
                contract_no[:MAX_KEY_CHARS] or None,
                product_id[:MAX_KEY_CHARS] or None,
            )
    return contract_no, product_id


def parse_line(index: int, raw: object) -> Line | Rejection:
    if not isinstance(raw, dict):
        return Rejection(index, "not_an_object", "每行必须是 JSON 对象 / each row must be a JSON object")
    key = parse_key(index, raw)
    if isinstance(key, Rejection):
        return key
    contract_no, product_id = key
    if len(raw) > MAX_COLUMNS:
        return Rejection(
            index,
            "too_many_columns",
            f"列数超过 {MAX_COLUMNS} / more than {MAX_COLUMNS} columns",
            contract_no,
            product_id,
        )
    for column, value in raw.items():
        problem = _value_problem(column, value)
        if problem:
            return Rejection(index, "invalid_value", problem, contract_no, product_id)
    return Line(index, contract_no, product_id, dict(raw), content_hash(raw))


class _Keyed(Protocol):
    """Anything naming one line of a batch (an upload or a deletion); read-only, as frozen dataclasses are."""

    @property
    def index(self) -> int: ...
    @property
    def contract_no(self) -> str: ...
    @property
    def product_id(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


def drop_repeated_lines(
    parsed: list[K], rejected: list[Rejection], message: str
) -> tuple[list[K], list[Rejection]]:
    """Keep the first occurrence of each line; a second one in the same batch is rejected, not merged."""
    kept: list[K] = []
    seen: set[tuple[str, str]] = set()
    for item in parsed:
        if (item.contract_no, item.product_id) in seen:
            rejected.append(
                Rejection(item.index, "duplicate_in_batch", message, item.contract_no, item.product_id)
            )
        else:
            seen.add((item.contract_no, item.product_id))
            kept.append(item)
    return kept, sorted(rejected, key=lambda r: r.index)


def parse_lines(rows: list[object]) -> tuple[list[Line], list[Rejection]]:
    parsed = [parse_line(index, raw) for index, raw in enumerate(rows)]
    return drop_repeated_lines(
        [p for p in parsed if isinstance(p, Line)],
        [p for p in parsed if isinstance(p, Rejection)],
        "同一批次中重复的 合同编号+产品ID / line repeated in this batch",
    )
