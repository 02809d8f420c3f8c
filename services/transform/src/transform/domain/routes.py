"""Process routes kept as data, and the choice of a route for a contract row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType

from transform.domain.columns import column_key
from transform.domain.normalize import normalize_text
from transform.domain.route_data import (
    DEFAULT_PRODUCT_TYPE,
    DEFAULT_ROUTE_ROWS,
    DEFAULT_TYPE_ALIASES,
    DEFAULT_TYPE_RULE_ROWS,
)

DEFAULT_ROUTES = DEFAULT_ROUTE_ROWS


class RouteConfigError(ValueError):
    """Route or rule data that cannot be used; raised when the catalog is built."""


@dataclass(frozen=True)
class ProcessStep:
    name: str
    seq: int
    weight: Decimal

    def __post_init__(self) -> None:
        if not (self.weight.is_finite() and self.weight > 0):
            raise RouteConfigError(f"工序 {self.name} 权重必须大于 0 / weight must be > 0")


@dataclass(frozen=True)
class ProcessRoute:
    product_type: str
    steps: tuple[ProcessStep, ...]

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        seqs = [step.seq for step in self.steps]
        if not names or len(set(names)) != len(names) or seqs != sorted(set(seqs)):
            raise RouteConfigError(
                f"路线 {self.product_type} 需要不重复、按序号递增的工序"
                f" / route {self.product_type} needs unique steps in rising seq order"
            )

    def __hash__(
        self,
    ) -> int:  # a route keys the progress cache of every line; hashing its steps each time was 2 µs
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash((self.product_type, self.steps))

    @cached_property  # read for every line's progress (bench profile, issue 12)
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    @cached_property  # read for every line's states
    def seqs(self) -> Mapping[str, int]:
        return MappingProxyType({step.name: step.seq for step in self.steps})


@dataclass(frozen=True)
class TypeRule:
    pattern_in_product_name: str
    product_type: str


def type_key(value: object) -> str:
    return (normalize_text(value) or "").casefold()


@dataclass(frozen=True)
class ProcessCatalog:
    routes: Mapping[str, ProcessRoute]
    type_rules: tuple[TypeRule, ...]
    default_type: str
    type_aliases: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TYPE_ALIASES)
    # column_key(any name of a catalogue process: its name, aliases, former names) -> the process's name
    process_keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", MappingProxyType(dict(self.routes)))
        object.__setattr__(self, "process_keys", MappingProxyType(dict(self.process_keys)))
        targets = {self.default_type, *self.type_aliases.values()}
        targets |= {rule.product_type for rule in self.type_rules}
        unknown = targets - set(self.routes)
        mislabelled = [key for key, route in self.routes.items() if key != route.product_type]
        if unknown or mislabelled:
            raise RouteConfigError(f"未定义的产品类型 / undefined product types: {unknown or mislabelled}")

    @cached_property
    def route_process_names(self) -> frozenset[str]:
        """Every process that some route uses: a line has a state for each (NULL: not applicable)."""
        return frozenset(name for route in self.routes.values() for name in route.step_names)

    @cached_property  # every line starts from these, in this order
    def sorted_route_process_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.route_process_names))

    @cached_property
    def process_names(self) -> frozenset[str]:
        """Every process of the catalogue or some route: the hetong columns that hold a status. One on no
        route gets a state only on a line that carries its column."""
        return self.route_process_names | frozenset(self.process_keys.values())

    @cached_property
    def column_processes(self) -> Mapping[str, str]:
        """column_key of every column that holds a process status -> the process (aliases resolved)."""
        return {column_key(name): name for name in sorted(self.process_names)} | dict(self.process_keys)

    def canonical(self, name: str) -> str:
        """The catalogue's name for a process named by an alias or a former name; other names unchanged."""
        return self.process_keys.get(column_key(name), name)

    @cached_property
    def _aliases(self) -> Mapping[str, str]:
        aliases = {type_key(word): product_type for word, product_type in self.type_aliases.items()}
        return aliases | {type_key(product_type): product_type for product_type in self.routes}

    def resolve_type(self, value: object) -> str | None:
        """The route key that a 产品类型 value names, or None when it names none."""
        return self._aliases.get(type_key(value))

    def route_for(self, row_fields: Mapping[str, object]) -> ProcessRoute:
        """The configured 产品类型 decides; without one, the first name rule, else the default."""
        product_type = self.resolve_type(row_fields.get("product_type"))
        if product_type is None:
            product_type = self._type_from_name(row_fields.get("product_name"))
        return self.routes[product_type]

    @cached_property
    def _rule_keys(self) -> tuple[tuple[str, str], ...]:
        return tuple((type_key(r.pattern_in_product_name), r.product_type) for r in self.type_rules)

    def _type_from_name(self, product_name: object) -> str:
        name = type_key(product_name)
        return next((product_type for key, product_type in self._rule_keys if key in name), self.default_type)


def catalog_from_rows(
    rows: Iterable[tuple[str, int, str, Decimal | int | str]],
    type_rules: Iterable[TypeRule],
    default_type: str,
    type_aliases: Mapping[str, str] = DEFAULT_TYPE_ALIASES,
    process_names: Iterable[tuple[str, str]] = (),
) -> ProcessCatalog:
    """Build a catalog from (product_type, seq, process, weight) rows in any order, and (any name, process)
    pairs of the process catalogue (aliases and former names included)."""
    grouped: defaultdict[str, list[ProcessStep]] = defaultdict(list)
    for product_type, seq, name, weight in rows:
        step = ProcessStep(_step_name(name), seq, Decimal(str(weight)))
        grouped[type_key(product_type)].append(step)
    routes = {
        key: ProcessRoute(key, tuple(sorted(steps, key=lambda step: step.seq)))
        for key, steps in grouped.items()
    }
    rules = tuple(TypeRule(r.pattern_in_product_name, type_key(r.product_type)) for r in type_rules)
    aliases = {word: type_key(product_type) for word, product_type in type_aliases.items()}
    keys = {column_key(alias): _step_name(name) for alias, name in process_names}
    return ProcessCatalog(routes, rules, type_key(default_type), aliases, keys)


def _step_name(name: str) -> str:
    # Names are matched against column names, which are NFKC-normalised the same way.
    text = normalize_text(name)
    if text is None:
        raise RouteConfigError("工序名称为空 / empty process name")
    return text


DEFAULT_TYPE_RULES = tuple(TypeRule(pattern, kind) for pattern, kind in DEFAULT_TYPE_RULE_ROWS)
DEFAULT_CATALOG = catalog_from_rows(DEFAULT_ROUTES, DEFAULT_TYPE_RULES, DEFAULT_PRODUCT_TYPE)
