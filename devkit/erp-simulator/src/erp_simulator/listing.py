"""Paging, sorting and filter primitives shared by the list pages (ERP_ZHIBANG.md section 6)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

Record = TypeVar("Record")
CellValue = str | int
SortKey = tuple[int, float, str]


@dataclass(frozen=True)
class Column(Generic[Record]):
    id: str
    caption: str
    value: Callable[[Record], CellValue]


@dataclass(frozen=True)
class PageRequest:
    size: int
    index: int


def page_request(params: Mapping[str, str], default_size: int) -> PageRequest:
    return PageRequest(
        size=_positive_int(params.get("pagesize"), default_size),
        index=_positive_int(params.get("pageindex"), 1),
    )


def paginate(items: Sequence[Record], page: PageRequest) -> tuple[list[Record], int]:
    pagecount = -(-len(items) // page.size)
    start = (page.index - 1) * page.size
    return list(items[start : start + page.size]), pagecount


def sort_records(
    records: list[Record],
    columns: Sequence[Column[Record]],
    rpt_sort: str,
    default: str,
) -> list[Record]:
    """``_rpt_sort`` names a column id, ``-`` in front meaning descending; it sorts all rows."""
    spec = rpt_sort.strip() or default
    descending = spec.startswith("-")
    column = next((c for c in columns if c.id == spec.lstrip("-")), None)
    if column is None:
        return sort_records(records, columns, default, default) if spec != default else records
    ord_column = columns[0]
    return sorted(
        records,
        key=lambda r: (_sort_key(column.value(r)), _sort_key(ord_column.value(r))),
        reverse=descending,
    )


def render_rows(columns: Sequence[Column[Record]], records: Sequence[Record], row_form: str) -> list[Any]:
    rows = [[column.value(record) for column in columns] for record in records]
    if row_form == "object":
        # The first column is always `ord`, which the object form repeats beside the values.
        return [{"value": row, "ord": row[0]} for row in rows]
    return rows


def contains(haystack: str, needle: str) -> bool:
    return needle.strip().casefold() in haystack.casefold()


def any_of(value: str, wanted: str) -> bool:
    """Multi-value enum filters take comma-separated ids."""
    return value in {part.strip() for part in wanted.split(",") if part.strip()}


def time_bound(value: str, *, upper: bool) -> datetime | None:
    text = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        # A bare date as the upper bound means the whole of that day.
        if upper and fmt == "%Y-%m-%d":
            return parsed.replace(hour=23, minute=59, second=59)
        return parsed
    return None


def in_range(moment: datetime, lower: str, upper: str) -> bool:
    low = time_bound(lower, upper=False) if lower else None
    high = time_bound(upper, upper=True) if upper else None
    return (low is None or moment >= low) and (high is None or moment <= high)


def _sort_key(value: CellValue) -> SortKey:
    if isinstance(value, int):
        return (0, float(value), "")
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _positive_int(raw: str | None, default: int) -> int:
    try:
        number = int(raw) if raw not in (None, "") else default
    except ValueError:
        return default
    return number if number >= 1 else default
