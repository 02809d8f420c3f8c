"""Standardisation of one raw hetong row into the cloud's contract fields and process statuses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    row = _RowAssembly(mapping, catalog)
    for column, value in raw.items():
        row.take(column, value)
    return row.finish()


class _RowAssembly:
    """The mutable scratchpad for one row, frozen into a StandardizedRow at the end."""

    def __init__(self, mapping: FieldMapping, catalog: ProcessCatalog) -> None:
        self.mapping = mapping
        self.catalog = catalog
        self.processes = catalog.column_processes  # aliases and former names resolve to the process
        self.fields: dict[str, object] = dict.fromkeys(mapping.targets)
        self.statuses: dict[str, ProcessStatus | None] = dict.fromkeys(catalog.sorted_route_process_names)
        self.issues: list[NormalizationIssue] = []
        self.unknown_columns: dict[str, object] = {}
        self.unknown_statuses: dict[str, str] = {}
        self.seen: set[str] = set()
        self.taken: dict[str, str] = {}  # process -> its column: an alias column and its process are one

    def take(self, column: str, value: object) -> None:
        key = column_key(column)
        if key in BOOKKEEPING_COLUMNS:
            return
        if key in self.seen or self.processes.get(key, "") in self.taken:
            self._take_duplicate(column, value)
        elif key in self.mapping.by_column:
            self._take_field(self.mapping.by_column[key], value)
        elif key in self.processes:
            self._take_status(self.processes[key], value)
            self.taken[self.processes[key]] = column
        else:
            self.unknown_columns[column] = value
        self.seen.add(key)

    def _take_duplicate(self, column: str, value: object) -> None:
        # Two headers that differ only in width or spaces: keep both, let a person decide.
        self.unknown_columns[column] = value
        message = "列名重复，值保留在未知列中 / duplicate column, value kept in unknown_columns"
        self.issues.append(NormalizationIssue(column, str(value), message))

    def _take_field(self, spec: FieldSpec, value: object) -> None:
        try:
            self.fields[spec.target] = _NORMALIZERS[spec.kind](value)
        except NormalizationError as error:
            self.issues.append(NormalizationIssue(spec.target, str(value), str(error)))

    def _take_status(self, process: str, value: object) -> None:
        word = normalize_text(value)
        if word is None:
            return
        status = parse_status(word)
        self.statuses[process] = status
        if status is None:
            self.unknown_statuses[process] = word

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
        for spec in self.mapping.required:
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
            process_columns=self.taken,
        )
