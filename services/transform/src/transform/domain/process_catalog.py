"""The process catalogue (seed 000 `processes:write`): names, aliases, routes and weights, checked. Pure.

A process has one cloud name and any number of other names that resolve to it: aliases (what the local
system's columns call it) and former names (a rename keeps the old name, so columns and reports that still
use it keep landing on the same process). Names are compared in the form column names are matched in
(`column_key`: NFKC, whitespace collapsed, casefolded), and one key names at most one process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from transform.domain.columns import column_key
from transform.domain.normalize import normalize_text

MAX_NAME = 40
MAX_ALIASES = 20
MAX_STEPS = 60
MAX_WEIGHT = Decimal("999999.99")  # numeric(8, 2)
DEFAULT_WEIGHT = Decimal(1)
SEQ_STEP = 10


class CatalogError(ValueError):
    """Input the catalogue refuses, with a stable code and the HTTP status it answers with."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    process_id: int
    name: str
    aliases: tuple[str, ...]
    former_names: tuple[str, ...]
    active: bool
    version: int

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *self.former_names)


@dataclass(frozen=True, slots=True)
class RouteStep:
    process: str
    weight: Decimal


class Catalog:
    """Every process and the name keys that resolve to it."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self.entries = tuple(sorted(entries, key=lambda e: e.process_id))
        self._by_key = {column_key(n): e for e in self.entries for n in e.all_names}

    def find(self, name: str) -> CatalogEntry | None:
        """The process a name (current, alias or former) resolves to."""
        return self._by_key.get(column_key(name))

    def get(self, name: str) -> CatalogEntry:
        entry = self.find(name)
        if entry is None:
            raise CatalogError("process_not_found", f"工序 {name} 不存在 / no such process", 404)
        return entry

    def check_free(self, names: Iterable[str], reserved: frozenset[str], own_id: int | None = None) -> None:
        """Each name must be no column of the contract itself and name no other process."""
        for name in names:
            key = column_key(name)
            if key in reserved:
                raise CatalogError(
                    "reserved_name",
                    f"{name} 是合同字段列名，不能作工序名 / {name} is a contract field column",
                )
            owner = self._by_key.get(key)
            if owner is not None and owner.process_id != own_id:
                raise CatalogError(
                    "duplicate_name",
                    f"名称 {name} 已属于工序 {owner.name} / {name} already names process {owner.name}",
                )


def clean_name(value: object, field: str = "name") -> str:
    """A process name as stored: NFKC (full-width → half-width), trimmed, 1-40 printable characters, no '/'."""
    text = normalize_text(value) if isinstance(value, str) else None
    if text is None or len(text) > MAX_NAME or not text.isprintable() or "/" in text:
        raise CatalogError(
            "invalid_name",
            f"{field}: 须为 1-{MAX_NAME} 个可见字符、不含 / 的文本 / must be 1-{MAX_NAME} printable characters"
            " without '/'",
        )
    return text


def clean_names(values: object, field: str = "aliases") -> tuple[str, ...]:
    """A list of names, each cleaned; the same name twice (in any width or case) is refused."""
    if not isinstance(values, list):
        raise CatalogError("invalid_request", f"{field}: 须为名称数组 / must be an array of names")
    if len(values) > MAX_ALIASES:
        raise CatalogError("too_many_aliases", f"{field}: 最多 {MAX_ALIASES} 个 / at most {MAX_ALIASES}")
    names = tuple(clean_name(v, field) for v in values)
    refuse_repeats(names)
    return names


def refuse_repeats(names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if column_key(name) in seen:
            raise CatalogError("duplicate_name", f"名称 {name} 重复 / {name} is given twice")
        seen.add(column_key(name))


def parse_weight(value: object, process: str) -> Decimal:
    """A positive number of at most 999999.99 with at most two decimals (JSON number or numeric text)."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        weight = Decimal(str(value).strip())
    except InvalidOperation:
        weight = Decimal("NaN")
    if not weight.is_finite() or not (0 < weight <= MAX_WEIGHT) or weight != weight.quantize(Decimal("0.01")):
        raise CatalogError(
            "invalid_weight",
            f"工序 {process} 的权重须为 0 到 {MAX_WEIGHT} 之间、最多两位小数的数 / weight must be > 0,"
            f" ≤ {MAX_WEIGHT}, at most two decimals",
        )
    return weight


def parse_route(body: object, catalog: Catalog, current: Mapping[str, Decimal]) -> tuple[RouteStep, ...]:
    """`{"steps": ["基辊加工", {"process": "动平衡", "weight": 1}, ...]}` in route order.

    A step without a weight keeps the weight it has on this route, else 1. Every process must exist and be
    active, and appear once (an alias and its process are the same step)."""
    steps = body.get("steps") if isinstance(body, dict) else None
    if not isinstance(steps, list) or not steps:
        raise CatalogError("invalid_route", "需要非空的 steps 数组 / body needs a non-empty `steps` array")
    if len(steps) > MAX_STEPS:
        raise CatalogError("too_many_steps", f"路线最多 {MAX_STEPS} 道工序 / at most {MAX_STEPS} steps")
    out: list[RouteStep] = []
    for step in steps:
        raw_name, raw_weight = (
            (step.get("process"), step.get("weight")) if isinstance(step, dict) else (step, None)
        )
        entry = _route_process(catalog, clean_name(raw_name, "process"))
        if any(s.process == entry.name for s in out):
            raise CatalogError("duplicate_in_route", f"工序 {entry.name} 在路线中重复 / step given twice")
        weight = (
            current.get(entry.name, DEFAULT_WEIGHT)
            if raw_weight is None
            else parse_weight(raw_weight, entry.name)
        )
        out.append(RouteStep(entry.name, weight))
    return tuple(out)


def _route_process(catalog: Catalog, name: str) -> CatalogEntry:
    entry = catalog.find(name)
    if entry is None:
        raise CatalogError("unknown_process", f"工序 {name} 不存在，请先添加 / no such process; add it first")
    if not entry.active:
        raise CatalogError("process_retired", f"工序 {entry.name} 已停用 / process {entry.name} is retired")
    return entry


def parse_weights(body: object, catalog: Catalog, route: Iterable[str]) -> dict[str, Decimal]:
    """`{"weights": {"<process>": <weight>, ...}}` for processes on the route."""
    weights = body.get("weights") if isinstance(body, dict) else None
    if not isinstance(weights, dict) or not weights:
        raise CatalogError(
            "invalid_request", "需要非空的 weights 对象 / body needs a non-empty `weights` object"
        )
    if len(weights) > MAX_STEPS:
        raise CatalogError("too_many_steps", f"最多 {MAX_STEPS} 道工序 / at most {MAX_STEPS} steps")
    on_route, out = set(route), {}
    for raw_name, raw_weight in weights.items():
        entry = catalog.find(name := clean_name(raw_name, "process"))
        if entry is None:
            raise CatalogError("unknown_process", f"工序 {name} 不存在 / no such process")
        if entry.name in out:
            raise CatalogError("duplicate_name", f"工序 {entry.name} 重复 / {entry.name} is given twice")
        if entry.name not in on_route:
            raise CatalogError("process_not_in_route", f"工序 {entry.name} 不在该路线上 / not on this route")
        out[entry.name] = parse_weight(raw_weight, entry.name)
    return out


def route_seqs(count: int) -> list[int]:
    """Steps numbered in tens (DOMAIN.md §2), so a step can be inserted by hand between two."""
    return [SEQ_STEP * (i + 1) for i in range(count)]
