"""The factory's employee list as the local system uploads it: parse and check each row. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.domain.lines import Rejection

MAX_TEXT = 100
MAX_PROCESSES = 100


@dataclass(frozen=True, slots=True)
class Employee:
    index: int
    number: str
    name: str
    workshop: str
    processes: tuple[str, ...]
    active: bool


def _text(row: dict[str, object], field: str, *, required: bool) -> str:
    value = row.get(field, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > MAX_TEXT:
        need = "必填，" if required else ""
        raise ValueError(
            f"{field}: {need}须为不超过 {MAX_TEXT} 字符的文本 / text of at most {MAX_TEXT} chars"
        )
    return value.strip()


def _processes(row: dict[str, object]) -> tuple[str, ...]:
    value = row.get("processes", [])
    if (
        not isinstance(value, list)
        or len(value) > MAX_PROCESSES
        or not all(isinstance(p, str) and 0 < len(p.strip()) <= MAX_TEXT and p.isprintable() for p in value)
    ):
        raise ValueError("processes: 须为工序名称数组 / must be an array of process names")
    return tuple(sorted({p.strip() for p in value}))


def _employee(index: int, row: object) -> Employee:
    if not isinstance(row, dict):
        raise ValueError("每行须为 JSON 对象 / each row must be an object")
    active = row.get("active", True)
    if not isinstance(active, bool):
        raise ValueError("active: 须为 true 或 false / must be a boolean")
    number = _text(row, "number", required=True)
    return Employee(
        index,
        number,
        _text(row, "name", required=True),
        _text(row, "workshop", required=False),
        _processes(row),
        active,
    )


def parse_employees(rows: list[object]) -> tuple[list[Employee], list[Rejection]]:
    """Valid rows, and a rejection (with reason) for each invalid or repeated one; the first of a number wins."""
    employees: list[Employee] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        try:
            e = _employee(index, row)
        except ValueError as exc:
            rejections.append(Rejection(index, "invalid_employee", str(exc)))
            continue
        if e.number in seen:
            rejections.append(
                Rejection(index, "duplicate_in_batch", f"工号 {e.number} 在本批重复 / repeated")
            )
            continue
        seen.add(e.number)
        employees.append(e)
    return employees, rejections
