"""Standardisation of one raw hetong row into the cloud's contract fields and process statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from transform.domain.columns import BOOKKEEPING_COLUMNS, column_key
from transform.domain.field_specs import (
    DEFAULT_MAPPING,
    FieldKind,
    FieldMapping,
    FieldSpec,
    MappingConfigError,
)
from transform.domain.normalize import (
    NormalizationError,
    normalize_amount,
    normalize_date,
    normalize_quantity,
    normalize_text,
)
from transform.domain.routes import ProcessCatalog
from transform.domain.status import ProcessStatus, parse_status

__all__ = [
    "DEFAULT_MAPPING",
    "FieldKind",
    "FieldMapping",
    "FieldSpec",
    "MappingConfigError",
    "NormalizationIssue",
    "RowRejected",
    "StandardizedRow",
    "standardize",
]

_NORMALIZERS: Mapping[FieldKind, Callable[[object], object]] = {
    "text": normalize_text,
    "date": normalize_date,
    "amount": normalize_amount,
    "quantity": normalize_quantity,
}


class RowRejected(Exception):  # noqa: N818 - the name is the service's contract
    """A row that cannot be stored at all: a key field is missing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class NormalizationIssue:
    """A value that could not be normalised; it is kept here as text, never dropped."""

    field: str
    raw: str
    message: str


@dataclass(frozen=True)
class StandardizedRow:
    product_id: str
    contract_no: str
    fields: dict[str, object]
    process_statuses: dict[str, ProcessStatus | None]
    issues: tuple[NormalizationIssue, ...]
    unknown_columns: dict[str, object]
    unknown_statuses: dict[str, str]
    # process -> the column that held its status, as received (an alias, a former name, another width)
    process_columns: dict[str, str] = field(default_factory=dict)


def standardize(raw: Mapping[str, object], mapping: FieldMapping, catalog: ProcessCatalog) -> StandardizedRow:
    """Map and normalise every column; raise RowRejected when 产品ID or 合同编号 is missing."""
    row = _RowAssembly(_plan_for(tuple(raw), mapping, catalog))
    row.take_all(raw.values())
    return row.finish()


# What a column is, decided once per column set: an import's lines all carry the same columns, and deciding it
# per cell (column_key, lookups, the duplicate check) was a third of standardize (bench G4 profile, issue 12).
_SKIP, _FIELD, _STATUS, _UNKNOWN, _DUPLICATE = range(5)
_Step = tuple[int, str, str, Callable[[object], object] | None]  # kind, column, target or process, normaliser


@dataclass(frozen=True)
class _ColumnPlan:
    mapping: FieldMapping
    catalog: ProcessCatalog
    steps: tuple[_Step, ...]
    taken: Mapping[str, str]  # process -> its column: an alias column and its process are one


def _column_plan(columns: tuple[str, ...], mapping: FieldMapping, catalog: ProcessCatalog) -> _ColumnPlan:
    processes = catalog.column_processes  # aliases and former names resolve to the process
    seen: set[str] = set()
    taken: dict[str, str] = {}
    steps: list[_Step] = []
    for column in columns:
        key = column_key(column)
        if key in BOOKKEEPING_COLUMNS:
            steps.append((_SKIP, column, "", None))
            continue
        if key in seen or processes.get(key, "") in taken:
            steps.append((_DUPLICATE, column, "", None))
        elif key in mapping.by_column:
            spec = mapping.by_column[key]
            steps.append((_FIELD, column, spec.target, _NORMALIZERS[spec.kind]))
        elif key in processes:
            steps.append((_STATUS, column, processes[key], None))
            taken[processes[key]] = column
        else:
            steps.append((_UNKNOWN, column, "", None))
        seen.add(key)
    return _ColumnPlan(mapping, catalog, tuple(steps), taken)


_PLANS: dict[tuple[str, ...], _ColumnPlan] = {}
_MAX_PLANS = 256


def _plan_for(columns: tuple[str, ...], mapping: FieldMapping, catalog: ProcessCatalog) -> _ColumnPlan:
    plan = _PLANS.get(columns)
    # A plan holds its configuration, so a reloaded mapping or catalogue is never read through an old plan.
    if plan is None or plan.mapping is not mapping or plan.catalog is not catalog:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[columns] = _column_plan(columns, mapping, catalog)
    return plan


class _RowAssembly:
    """The mutable scratchpad for one row, frozen into a StandardizedRow at the end."""

    def __init__(self, plan: _ColumnPlan) -> None:
        self.plan = plan
        self.catalog = plan.catalog
        self.fields: dict[str, object] = dict.fromkeys(plan.mapping.targets)
        self.statuses: dict[str, ProcessStatus | None] = dict.fromkeys(
            self.catalog.sorted_route_process_names
        )
        self.issues: list[NormalizationIssue] = []
        self.unknown_columns: dict[str, object] = {}
        self.unknown_statuses: dict[str, str] = {}

    def take_all(self, values: Iterable[object]) -> None:
        fields, statuses, issues = self.fields, self.statuses, self.issues
        for (kind, column, name, normalize), value in zip(self.plan.steps, values, strict=True):
            if kind == _FIELD:
                try:
                    fields[name] = normalize(value)  # type: ignore[misc]  # a field's step has its normaliser
                except NormalizationError as error:
                    issues.append(NormalizationIssue(name, str(value), str(error)))
            elif kind == _STATUS:
                word = normalize_text(value)
                if word is not None:
                    statuses[name] = status = parse_status(word)
                    if status is None:
                        self.unknown_statuses[name] = word
            elif kind == _UNKNOWN:
                self.unknown_columns[column] = value
            elif kind == _DUPLICATE:
                # Two headers that differ only in width or spaces: keep both, let a person decide.
                self.unknown_columns[column] = value
                message = "列名重复，值保留在未知列中 / duplicate column, value kept in unknown_columns"
                issues.append(NormalizationIssue(column, str(value), message))

    def _resolve_product_type(self) -> None:
        # Stored as the route key ("凹版" → "gravure"); an unknown word stays, with an issue,
        # and the route then comes from the product name.
        value = self.fields.get("product_type")
        product_type = self.catalog.resolve_type(value)
        if product_type is not None:
            self.fields["product_type"] = product_type
        elif value is not None:
            message = "未知产品类型，按产品名称选择路线 / unknown product type, route taken from the name"
            self.issues.append(NormalizationIssue("product_type", str(value), message))

    def _require(self, spec: FieldSpec) -> None:
        if spec.required and self.fields[spec.target] is None:
            reason = next((i.message for i in self.issues if i.field == spec.target), "")
            message = f"缺少必填字段 {spec.source} / missing required field {spec.target}"
            raise RowRejected(spec.target, f"{message} {reason}".strip())

    def finish(self) -> StandardizedRow:
        for spec in self.plan.mapping.required:
            self._require(spec)
        self._resolve_product_type()
        return StandardizedRow(
            product_id=str(self.fields["product_id"]),
            contract_no=str(self.fields["contract_no"]),
            fields=self.fields,
            process_statuses=self.statuses,
            issues=tuple(self.issues),
            unknown_columns=self.unknown_columns,
            unknown_statuses=self.unknown_statuses,
            process_columns=dict(self.plan.taken),
        )
