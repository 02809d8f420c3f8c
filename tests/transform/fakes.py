"""In-memory doubles of transform's ports (transform.service_layer.ports): handler tests without PostgreSQL.

The repositories share one `FakeTables`, so what the lines path wrote is what the progress path reads. Like the
real unit of work, `FakeTransformUnitOfWork` publishes only committed events (`outbox.published`); the tables
themselves are not rolled back, so a test of a failing handler asserts on `committed` and the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from common.events.ingest import EmployeeChanged, HetongRowChanged, ProgressReported
from tests.support.fake_uow import FakeUnitOfWork
from transform.domain.columns import BOOKKEEPING_COLUMNS, column_key
from transform.domain.cursor import Position
from transform.domain.line_feed import FeedEntry, FeedWrite, Horizon
from transform.domain.mapping import DEFAULT_MAPPING, FieldMapping
from transform.domain.precedence import ProcessState, Report
from transform.domain.process_catalog import Catalog, CatalogEntry, RouteStep, route_seqs
from transform.domain.progress import Progress
from transform.domain.reconcile import CloudLine, Outcome
from transform.domain.routes import DEFAULT_CATALOG, ProcessCatalog
from transform.service_layer.ports import EmployeeCopy, Key, LineHead, LineState, LineWrite


@dataclass
class FakeTables:
    heads: dict[Key, LineHead] = field(default_factory=dict)
    receipts: dict[Key, int] = field(default_factory=dict)
    lines: dict[Key, LineWrite] = field(default_factory=dict)
    product_types: dict[Key, str] = field(default_factory=dict)
    states: dict[Key, dict[str, ProcessState]] = field(default_factory=dict)
    progress: dict[Key, Progress] = field(default_factory=dict)
    reports: dict[tuple[str, str, str], tuple[int, Report]] = field(default_factory=dict)
    feed: list[FeedWrite] = field(default_factory=list)


def _upserted(stored: dict[str, ProcessState], written: list[ProcessState]) -> dict[str, ProcessState]:
    """As product_processes' upsert: a written state replaces its row, a state not written keeps its row."""
    return {**stored, **{s.process: s for s in written}}


class FakeLines:
    def __init__(self, t: FakeTables) -> None:
        self.t = t

    async def heads(self, keys: list[Key]) -> dict[Key, LineHead]:
        return {k: self.t.heads[k] for k in keys if k in self.t.heads}

    async def record_receipts(self, events: list[HetongRowChanged]) -> None:
        for e in events:
            key = (e.contract_no, e.product_id)
            self.t.receipts[key] = max(e.version, self.t.receipts.get(key, 0))

    async def process_states(self, keys: list[Key]) -> dict[Key, dict[str, ProcessState]]:
        return {k: dict(self.t.states[k]) for k in keys if k in self.t.states}

    async def reports_for(self, contract_nos: set[str]) -> dict[str, list[Report]]:
        out: dict[str, list[Report]] = {}
        for (c, _, _), (_, report) in self.t.reports.items():
            if c in contract_nos:
                out.setdefault(c, []).append(report)
        return out

    async def save(self, writes: list[LineWrite]) -> None:
        for w in writes:
            key = (w.event.contract_no, w.event.product_id)
            self.t.heads[key] = LineHead(w.event.version, deleted=False)
            self.t.lines[key] = w
            self.t.product_types[key] = w.product_type
            self.t.states[key] = _upserted(self.t.states.get(key, {}), w.states)
            self.t.progress[key] = w.progress

    async def delete(self, events: list[HetongRowChanged]) -> None:
        for e in events:
            key = (e.contract_no, e.product_id)
            self.t.heads[key] = LineHead(e.version, deleted=True)
            for table in (self.t.lines, self.t.product_types, self.t.states, self.t.progress):
                table.pop(key, None)


class FakeProgress:
    def __init__(self, t: FakeTables) -> None:
        self.t = t

    async def save_report(self, report: ProgressReported, received_at: datetime) -> bool:
        key = (report.contract_no, report.product_id or "", report.process)
        if key in self.t.reports and self.t.reports[key][0] >= report.version:
            return False
        stored = Report(
            report.product_id or None,
            report.process,
            report.status,
            report.update_time,
            report.updated_by,
            received_at,
            report.reporter_flag,
        )
        self.t.reports[key] = (report.version, stored)
        return True

    async def lines_of(self, contract_no: str, product_id: str | None) -> list[LineState]:
        return [
            LineState(c, p, kind, dict(self.t.states.get((c, p), {})))
            for (c, p), kind in sorted(self.t.product_types.items())
            if c == contract_no and product_id in (None, p)
        ]

    async def save_progress(
        self, line: LineState, states: list[ProcessState], progress: Progress, by: str, at: datetime
    ) -> None:
        key = (line.contract_no, line.product_id)
        self.t.states[key] = _upserted(self.t.states.get(key, {}), states)
        self.t.progress[key] = progress


class FakeFeed:
    def __init__(self, t: FakeTables) -> None:
        self.t = t

    async def append(self, items: list[FeedWrite]) -> None:
        self.t.feed += items


class FakeLocks:
    def __init__(self) -> None:
        self.taken: list[str] = []  # "catalog", "catalog_shared", "contracts:A,B" in the order taken
        self.written = False

    async def contracts(self, contract_nos: Iterable[str]) -> None:
        self.taken.append("contracts:" + ",".join(sorted(set(contract_nos))))

    async def catalog(self) -> None:
        self.taken.append("catalog")

    async def catalog_shared(self) -> None:
        self.taken.append("catalog_shared")

    async def has_written(self) -> bool:
        return self.written


class FakeConfiguration:
    def __init__(self, catalog: ProcessCatalog = DEFAULT_CATALOG) -> None:
        self.catalog, self.mapping = catalog, DEFAULT_MAPPING
        self.current_revision = 1
        self.loads = 0
        self.seeded = 0

    async def revision(self) -> int:
        return self.current_revision

    async def load(self) -> tuple[FieldMapping, ProcessCatalog]:
        self.loads += 1
        return self.mapping, self.catalog

    async def seed_defaults(self) -> None:
        self.seeded += 1


@dataclass
class _Process:
    name: str
    aliases: list[str] = field(default_factory=list)
    former: list[str] = field(default_factory=list)
    active: bool = True
    version: int = 1
    announced: bool = True


class FakeCatalog:
    """Processes, names, routes and history as the catalogue's tables hold them."""

    def __init__(self, reserved: Iterable[str] = ("合同编号", "产品ID")) -> None:
        self.processes: dict[int, _Process] = {}
        self.route_rows: dict[str, list[tuple[str, Decimal]]] = {}
        self.history_rows: list[tuple[int, int, str, dict[str, Any], str]] = []
        self.revision = 0
        self._reserved = frozenset(column_key(r) for r in reserved) | BOOKKEEPING_COLUMNS

    def seed(self, name: str, *aliases: str, announced: bool = True) -> int:
        process_id = len(self.processes) + 1
        self.processes[process_id] = _Process(name, list(aliases), announced=announced)
        return process_id

    async def load(self) -> Catalog:
        return Catalog(
            CatalogEntry(i, p.name, tuple(p.aliases), tuple(p.former), p.active, p.version)
            for i, p in self.processes.items()
        )

    async def reserved_names(self) -> frozenset[str]:
        return self._reserved

    async def routes(self) -> dict[str, list[dict[str, Any]]]:
        return {
            kind: [
                {"seq": seq, "process": p, "weight": w}
                for seq, (p, w) in zip(route_seqs(len(steps)), steps, strict=True)
            ]
            for kind, steps in sorted(self.route_rows.items())
        }

    async def history(self, process_id: int) -> list[dict[str, Any]]:
        return [
            {"version": v, "change": c, "detail": d, "client_id": who}
            for i, v, c, d, who in self.history_rows
            if i == process_id
        ]

    async def add(self, name: str) -> int:
        process_id = len(self.processes) + 1
        self.processes[process_id] = _Process(name, announced=False)
        return process_id

    async def add_names(self, process_id: int, names: list[str], kind: str) -> None:
        if kind == "alias":
            self.processes[process_id].aliases += names

    async def drop_aliases(self, process_id: int) -> None:
        self.processes[process_id].aliases = []

    async def rename(self, process_id: int, old: str, new: str) -> None:
        p = self.processes[process_id]
        p.former.append(old)
        p.name = new
        for steps in self.route_rows.values():
            steps[:] = [(new if s == old else s, w) for s, w in steps]

    async def retire(self, process_id: int) -> None:
        self.processes[process_id].active = False

    async def routes_using(self, name: str) -> list[str]:
        return sorted(k for k, steps in self.route_rows.items() if name in (s for s, _ in steps))

    async def route_weights(self, product_type: str) -> dict[str, Decimal] | None:
        steps = self.route_rows.get(product_type)
        return dict(steps) if steps else None

    async def replace_route(self, product_type: str, steps: tuple[RouteStep, ...]) -> None:
        self.route_rows[product_type] = [(s.process, s.weight) for s in steps]

    async def set_weights(self, product_type: str, weights: dict[str, Decimal]) -> None:
        steps = self.route_rows[product_type]
        steps[:] = [(s, weights.get(s, w)) for s, w in steps]

    async def next_version(
        self, process_id: int, change: str, detail: dict[str, Any], client_id: str
    ) -> None:
        p = self.processes[process_id]
        p.version += 1
        p.announced = True
        await self.record(process_id, p.version, change, detail, client_id)

    async def record(
        self, process_id: int, version: int, change: str, detail: dict[str, Any], client_id: str
    ) -> None:
        self.history_rows.append((process_id, version, change, detail, client_id))

    async def bump_revision(self) -> None:
        self.revision += 1

    async def unannounced(self) -> list[int]:
        return [i for i, p in self.processes.items() if not p.announced]

    async def mark_announced(self, ids: list[int]) -> None:
        for i in ids:
            self.processes[i].announced = True


class FakeEmployees:
    def __init__(self) -> None:
        self.rows: dict[str, EmployeeChanged] = {}

    async def keep_newer(self, employees: list[EmployeeChanged]) -> int:
        kept = [e for e in employees if e.number not in self.rows or self.rows[e.number].version < e.version]
        self.rows.update((e.number, e) for e in kept)
        return len(kept)

    async def find(self, number: str) -> EmployeeCopy | None:
        e = self.rows.get(number)
        return EmployeeCopy(e.number, tuple(e.processes), e.active) if e else None


class FakeTransformUnitOfWork(FakeUnitOfWork):
    def __init__(self, tables: FakeTables | None = None) -> None:
        super().__init__()
        self.tables = tables or FakeTables()
        self.lines = FakeLines(self.tables)
        self.progress = FakeProgress(self.tables)
        self.feed = FakeFeed(self.tables)
        self.locks = FakeLocks()
        self.configuration = FakeConfiguration()
        self.catalog = FakeCatalog()
        self.employees = FakeEmployees()
        self.begun = 0

    def start(self) -> FakeTransformUnitOfWork:
        """A `UowFactory` handing out this unit of work (`async with uow.start() as u:`)."""
        self.begun += 1
        return self


class FakeSnapshot:
    def __init__(self, entries: list[FeedEntry], horizon: Horizon | None, bound: Position) -> None:
        self.entries, self._horizon, self.bound = entries, horizon, bound
        self.read_from: list[Position] = []

    async def horizon(self) -> Horizon | None:
        return self._horizon

    async def position_before(self, since: datetime, overlap_s: int) -> Position:
        edge = since.timestamp() - overlap_s
        first = next((e.position for e in self.entries if e.updated_at.timestamp() >= edge), None)
        return self.bound if first is None else Position(first.txid, first.seq - 1)

    async def read_after(self, after: Position, limit: int) -> list[FeedEntry]:
        self.read_from.append(after)
        return [e for e in self.entries if e.position > after][:limit]


class FakeFeedReader:
    def __init__(self, entries: list[FeedEntry], horizon: Horizon | None = None) -> None:
        self.snap = FakeSnapshot(entries, horizon, Position(10**6, 0))
        self.snapshots = 0

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[FakeSnapshot]:
        self.snapshots += 1
        yield self.snap


def feed_entry(txid: int, contract_no: str, at: datetime | None = None) -> FeedEntry:
    return FeedEntry(
        Position(txid, 1),
        contract_no,
        "P1",
        Decimal("50.0"),
        "喷砂",
        at or datetime(2026, 12, 1, tzinfo=UTC),
        "worker",
        deleted=False,
        processes={},
    )


class FakeReconciliation:
    def __init__(self, lines: list[CloudLine]) -> None:
        self.lines = lines
        self.asked: list[list[str] | None] = []
        self.results: dict[str, dict[str, Any]] = {}

    async def cloud_lines(self, contract_nos: list[str] | None) -> list[CloudLine]:
        self.asked.append(contract_nos)
        return [x for x in self.lines if contract_nos is None or x.contract_no in contract_nos]

    async def save_result(self, client_id: str, complete: bool, outcome: Outcome) -> datetime:
        at = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
        self.results[client_id] = {
            "client_id": client_id,
            "checked_at": at,
            "complete": complete,
            "checked": outcome.checked,
            "missing_in_cloud": list(outcome.missing_in_cloud),
            "missing_locally": list(outcome.missing_locally),
            "different": list(outcome.different),
        }
        return at

    async def latest_results(self) -> list[dict[str, Any]]:
        return [dict(r) for _, r in sorted(self.results.items())]


T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ANILOX = {"产品名称": "陶瓷网纹辊", "基辊加工": "已完成", "喷砂": "进行中", "热喷涂": "未开始"}


def line_event(
    contract_no: str, version: int = 1, *, product_id: str = "P1", deleted: bool = False, **row: Any
) -> HetongRowChanged:
    return HetongRowChanged(
        contract_no=contract_no,
        product_id=product_id,
        version=version,
        content_hash=f"h{version}",
        row={} if deleted else {"合同编号": contract_no, "产品ID": product_id, **ANILOX, **row},
        source="local_system",
        client_id="agent",
        received_at=T0,
        deleted=deleted,
    )


def report_event(
    contract_no: str,
    process: str,
    status: str = "已完成",
    *,
    version: int = 1,
    by: str = "worker_zhang",
    at: datetime = T0,
) -> ProgressReported:
    return ProgressReported(
        contract_no=contract_no,
        product_id="P1",
        process=process,
        status=status,
        version=version,
        updated_by=by,
        update_time=at,
        client_id="mini",
        received_at=at,
    )


def employee_event(
    number: str, version: int, processes: list[str], *, active: bool = True
) -> EmployeeChanged:
    return EmployeeChanged(
        number=number, version=version, name="张三", workshop="一车间", processes=processes, active=active
    )
