"""What the service layer needs from storage: repository ports and the unit of work that holds them.

The adapters package implements them in SQL; handler tests use in-memory fakes
(tests/transform/fakes.py). Repositories take and return domain objects or the plain dataclasses below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from common.uow import UnitOfWorkPort

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from common.events.ingest import EmployeeChanged, HetongRowChanged, ProgressReported
    from transform.domain.cursor import Position
    from transform.domain.line_feed import FeedEntry, FeedNote, FeedWrite, Horizon
    from transform.domain.mapping import FieldMapping, StandardizedRow
    from transform.domain.precedence import ProcessState, Report
    from transform.domain.process_catalog import Catalog, RouteStep
    from transform.domain.progress import Progress
    from transform.domain.reconcile import CloudLine, Outcome
    from transform.domain.routes import ProcessCatalog

Key = tuple[str, str]  # (contract_no, product_id): one line


@dataclass(frozen=True, slots=True)
class LineWrite:
    event: HetongRowChanged
    std: StandardizedRow
    product_type: str
    states: list[ProcessState]
    progress: Progress
    feed: FeedNote | None = None  # the write owes the pending-updates feed an item


@dataclass(frozen=True, slots=True)
class LineHead:
    version: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class LineState:
    contract_no: str
    product_id: str
    product_type: str
    states: dict[str, ProcessState]


@dataclass(frozen=True, slots=True)
class EmployeeCopy:
    number: str
    processes: tuple[str, ...]
    active: bool


class LineRepository(Protocol):
    """Lines from the local system: raw copy, standardized contract, product and its process states."""

    async def heads(self, keys: list[Key]) -> dict[Key, LineHead]:
        """Each stored line's version and tombstone, row-locked until the transaction ends."""

    async def record_receipts(self, events: list[HetongRowChanged]) -> None:
        """The newest version consumed per line, applied or superseded (one event per line)."""

    async def process_states(self, keys: list[Key]) -> dict[Key, dict[str, ProcessState]]: ...

    async def reports_for(self, contract_nos: set[str]) -> dict[str, list[Report]]: ...

    async def save(self, writes: list[LineWrite]) -> None: ...

    async def delete(self, events: list[HetongRowChanged]) -> None:
        """A deleted line keeps only its raw tombstone (for the version guard)."""


class ProgressRepository(Protocol):
    """Progress reports and the lines they move."""

    async def save_report(self, report: ProgressReported, received_at: datetime) -> bool:
        """Keep the report if newer than the one held; False means superseded."""

    async def lines_of(self, contract_no: str, product_id: str | None) -> list[LineState]:
        """The contract's lines (or the one named), row-locked."""

    async def save_progress(
        self, line: LineState, states: list[ProcessState], progress: Progress, by: str, at: datetime
    ) -> None: ...


class FeedRepository(Protocol):
    async def append(self, items: list[FeedWrite]) -> None:
        """Append items to the pending-updates feed, in this transaction (written at commit, last)."""


class Locks(Protocol):
    """Advisory locks held until the transaction ends (adapters/locks.py says why per lock)."""

    async def contracts(self, contract_nos: Iterable[str]) -> None:
        """All in one statement, ascending key order: overlapping sets never deadlock."""

    async def catalog(self) -> None:
        """Exclusive: a catalogue change."""

    async def catalog_shared(self) -> None:
        """Shared: a consumer batch."""

    async def has_written(self) -> bool:
        """The transaction already holds a transaction id (it wrote something)."""


class ConfigurationRepository(Protocol):
    async def revision(self) -> int:
        """The catalogue's revision, bumped by every catalogue or route change."""

    async def load(self) -> tuple[FieldMapping, ProcessCatalog]: ...

    async def seed_defaults(self) -> None:
        """First start: copy the shipped defaults into the (then authoritative) tables."""


class CatalogRepository(Protocol):
    """The process catalogue: processes, their names, history, routes and revision."""

    async def load(self) -> Catalog: ...

    async def reserved_names(self) -> frozenset[str]: ...

    async def routes(self) -> dict[str, list[dict[str, Any]]]: ...

    async def history(self, process_id: int) -> list[dict[str, Any]]: ...

    async def add(self, name: str) -> int: ...

    async def add_names(self, process_id: int, names: list[str], kind: str) -> None: ...

    async def drop_aliases(self, process_id: int) -> None: ...

    async def rename(self, process_id: int, old: str, new: str) -> None: ...

    async def retire(self, process_id: int) -> None: ...

    async def routes_using(self, name: str) -> list[str]: ...

    async def route_weights(self, product_type: str) -> dict[str, Decimal] | None: ...

    async def replace_route(self, product_type: str, steps: tuple[RouteStep, ...]) -> None: ...

    async def set_weights(self, product_type: str, weights: dict[str, Decimal]) -> None: ...

    async def next_version(
        self, process_id: int, change: str, detail: dict[str, Any], client_id: str
    ) -> None: ...

    async def record(
        self, process_id: int, version: int, change: str, detail: dict[str, Any], client_id: str
    ) -> None: ...

    async def bump_revision(self) -> None: ...

    async def unannounced(self) -> list[int]: ...

    async def mark_announced(self, ids: list[int]) -> None: ...


class EmployeeRepository(Protocol):
    async def keep_newer(self, employees: list[EmployeeChanged]) -> int: ...

    async def find(self, number: str) -> EmployeeCopy | None: ...


class UnitOfWork(UnitOfWorkPort, Protocol):
    """One transaction: nothing a handler did is kept unless it calls `commit()` (common.uow)."""

    @property
    def lines(self) -> LineRepository: ...

    @property
    def progress(self) -> ProgressRepository: ...

    @property
    def feed(self) -> FeedRepository: ...

    @property
    def locks(self) -> Locks: ...

    @property
    def configuration(self) -> ConfigurationRepository: ...

    @property
    def catalog(self) -> CatalogRepository: ...

    @property
    def employees(self) -> EmployeeRepository: ...


UowFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]
"""A unit of work on a connection and transaction of its own (`async with start() as uow:`)."""


class FeedSnapshot(Protocol):
    """The feed as one read-only snapshot sees it: positions follow commit order, so it has no gaps."""

    async def horizon(self) -> Horizon | None: ...

    async def position_before(self, since: datetime, overlap_s: int) -> Position: ...

    async def read_after(self, after: Position, limit: int) -> list[FeedEntry]: ...


class FeedReader(Protocol):
    def snapshot(self) -> AbstractAsyncContextManager[FeedSnapshot]: ...


class ReconciliationStore(Protocol):
    async def cloud_lines(self, contract_nos: list[str] | None) -> list[CloudLine]:
        """Every live line (of `contract_nos`, or all), read in one snapshot."""

    async def save_result(self, client_id: str, complete: bool, outcome: Outcome) -> datetime: ...

    async def latest_results(self) -> list[dict[str, Any]]: ...
