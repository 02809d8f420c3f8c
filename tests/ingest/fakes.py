"""In-memory doubles of ingest's ports (ingest/service_layer/ports.py), for handler tests without PostgreSQL.

All repositories work on one `FakeStore`. `FakeIngestUnitOfWork` keeps, like the real one, only what a handler
committed: entering it takes a snapshot of the store, leaving it without a `commit()` puts the snapshot back.
The fakes follow the SQL's rules (versions, overwrite, deleted lines, the token-version trigger) closely enough
for the handlers' behaviour; the integration and e2e tests prove the SQL itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from common.rate_limit import RateLimitedError
from ingest.domain.clients import Client, hash_secret
from ingest.domain.employees import Employee
from ingest.domain.processes import KnownProcess
from ingest.service_layer.errors import DeadlockError
from ingest.service_layer.ports import (
    ClientListing,
    ClientSeen,
    HeldProcess,
    NewClient,
    ProgressRow,
    Revocation,
    StoredResponse,
)
from tests.support.fake_uow import FakeUnitOfWork

if TYPE_CHECKING:
    from common.events.transform import ProcessChanged
    from common.rate_limit import Limit
    from ingest.domain.capture import Capture
    from ingest.domain.deletions import Deletion
    from ingest.domain.lines import Line
    from ingest.service_layer.ports import LineKey


@dataclass
class StoredLine:
    content_hash: str
    version: int
    row: dict[str, Any]
    deleted: bool = False


@dataclass
class StoredProgress:
    status: str
    version: int
    updated_by: str
    update_time: datetime
    flag: str | None = None


@dataclass
class FakeStore:
    clients: dict[str, Client] = field(default_factory=dict)
    rows_per_day: dict[str, int] = field(default_factory=dict)
    last_seen: dict[str, float] = field(default_factory=dict)
    daily_rows: dict[tuple[str, datetime], int] = field(default_factory=dict)
    answers: dict[tuple[str, str], StoredResponse] = field(default_factory=dict)
    lines: dict[LineKey, StoredLine] = field(default_factory=dict)
    progress: dict[tuple[str, str, str], StoredProgress] = field(default_factory=dict)
    employees: dict[str, tuple[Employee, int, bool]] = field(
        default_factory=dict
    )  # (row, version, announced)
    catalog: dict[int, ProcessChanged] = field(default_factory=dict)
    customers: dict[str, tuple[int, str]] = field(default_factory=dict)  # (version, content hash)
    locks: list[str] = field(default_factory=list)  # advisory and row locks taken, in order


class FakeClientsRepository:
    def __init__(self, store: FakeStore, clock: float = 1_000.0) -> None:
        self.store, self.clock = store, clock

    async def get(self, client_id: str) -> Client | None:
        return self.store.clients.get(client_id)

    async def revocations(self) -> list[Revocation]:
        return [
            Revocation(c.client_id, c.token_version, c.disabled)
            for c in sorted(self.store.clients.values(), key=lambda c: c.client_id)
            if c.disabled or c.token_version > 1
        ]

    async def add_daily_rows(self, client_id: str, day_start: datetime, rows: int) -> tuple[bool, int]:
        limit = self.store.rows_per_day.get(client_id, 0)
        counted = self.store.daily_rows.get((client_id, day_start), 0)
        if client_id not in self.store.clients or counted + rows > limit:
            return False, limit
        self.store.daily_rows[(client_id, day_start)] = counted + rows
        return True, limit

    async def record_seen(self, client_id: str) -> None:
        if client_id in self.store.clients:
            self.store.last_seen[client_id] = max(self.store.last_seen.get(client_id, 0.0), self.clock)

    async def enabled_seen(self) -> list[ClientSeen]:
        return [
            ClientSeen(c.client_id, c.scopes, self.store.last_seen.get(c.client_id))
            for c in self.store.clients.values()
            if not c.disabled
        ]

    async def create(self, client: NewClient, *, if_missing: bool) -> bool:
        if client.client_id in self.store.clients:
            if if_missing:
                return False
            raise KeyError(f"duplicate client {client.client_id}")  # the real one: a unique violation
        self.store.clients[client.client_id] = Client(
            client.client_id,
            client.secret_hash,
            frozenset(client.scopes),
            False,
            client.per_minute,
            client.per_day,
        )
        self.store.rows_per_day[client.client_id] = client.rows_per_day
        return True

    async def listing(self) -> list[ClientListing]:
        return [
            ClientListing(
                c.client_id,
                tuple(sorted(c.scopes)),
                c.disabled,
                c.rate_per_minute,
                c.rate_per_day,
                self.store.rows_per_day[c.client_id],
            )
            for c in sorted(self.store.clients.values(), key=lambda c: c.client_id)
        ]

    async def set_disabled(self, client_id: str, disabled: bool) -> bool:
        c = self.store.clients.get(client_id)
        if c is None:
            return False
        version = c.token_version + 1 if disabled and not c.disabled else c.token_version  # migration 0053
        self.store.clients[client_id] = replace(c, disabled=disabled, token_version=version)
        return True

    async def rotate(self, client_id: str, secret_hash: str) -> bool:
        c = self.store.clients.get(client_id)
        if c is None:
            return False
        self.store.clients[client_id] = replace(c, secret_hash=secret_hash, token_version=c.token_version + 1)
        return True

    async def set_rows_per_day(self, client_id: str, rows_per_day: int) -> bool:
        if client_id not in self.store.clients:
            return False
        self.store.rows_per_day[client_id] = rows_per_day
        return True


class FakeIdempotencyRepository:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def lock(self, client_id: str, key: str) -> None:
        self.store.locks.append(f"idempotency:{client_id}:{key}")

    async def get(self, client_id: str, key: str) -> StoredResponse | None:
        return self.store.answers.get((client_id, key))

    async def add(self, client_id: str, key: str, request_hash: str, status: int, body: bytes) -> None:
        if (client_id, key) in self.store.answers:
            raise KeyError("duplicate idempotency key")  # the real one: a primary-key violation
        self.store.answers[(client_id, key)] = StoredResponse(request_hash, status, body)


class FakeLinesRepository:
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.deadlocks = 0  # the next this many upserts fail as PostgreSQL's deadlock abort would
        self.upserts = 0

    async def existing_hashes(self, lines: list[Line]) -> dict[LineKey, str]:
        keys = {(x.contract_no, x.product_id) for x in lines}
        return {k: v.content_hash for k, v in self.store.lines.items() if k in keys}

    async def upsert(
        self, lines: list[Line], overwrite: bool, source: str, client_id: str
    ) -> dict[LineKey, int]:
        self.upserts += 1
        if self.deadlocks > 0:
            self.deadlocks -= 1
            raise DeadlockError("deadlock detected")
        versions: dict[LineKey, int] = {}
        for x in lines:
            key = (x.contract_no, x.product_id)
            held = self.store.lines.get(key)
            if held is None:
                self.store.lines[key] = StoredLine(x.content_hash, 1, x.row)
            elif held.deleted or (overwrite and held.content_hash != x.content_hash):
                self.store.lines[key] = StoredLine(x.content_hash, held.version + 1, x.row)
            else:
                continue
            versions[key] = self.store.lines[key].version
        return versions

    async def delete(
        self, deletions: list[Deletion], source: str, client_id: str
    ) -> tuple[dict[LineKey, int], set[LineKey]]:
        versions: dict[LineKey, int] = {}
        already: set[LineKey] = set()
        for d in deletions:
            key = (d.contract_no, d.product_id)
            held = self.store.lines.get(key)
            if held is None:
                continue
            if held.deleted:
                already.add(key)
                continue
            held.deleted, held.version = True, held.version + 1
            versions[key] = held.version
        return versions, already

    async def contract_processes(self, contract_no: str) -> tuple[set[str], set[str]] | None:
        found = [(k[1], v.row) for k, v in self.store.lines.items() if k[0] == contract_no]
        if not found:
            return None
        return {p for p, _ in found}, {c for _, row in found for c in row}


class FakeProgressRepository:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def lock(self, contract_no: str, product_id: str, process: str) -> ProgressRow | None:
        self.store.locks.append(f"progress:{contract_no}:{product_id}:{process}")
        held = self.store.progress.get((contract_no, product_id, process))
        return ProgressRow(held.version, held.update_time) if held else None

    async def save(
        self,
        contract_no: str,
        product_id: str,
        process: str,
        status: str,
        updated_by: str,
        update_time: datetime,
    ) -> int:
        key = (contract_no, product_id, process)
        held = self.store.progress.get(key)
        version = held.version + 1 if held else 1
        self.store.progress[key] = StoredProgress(status, version, updated_by, update_time)
        return version

    async def flag_reporter(self, contract_no: str, product_id: str, process: str, flag: str | None) -> None:
        held = self.store.progress.get((contract_no, product_id, process))
        if held is not None:
            held.flag = flag


class FakeEmployeesRepository:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def upsert(self, employees: list[Employee], client_id: str) -> dict[str, int]:
        written: dict[str, int] = {}
        for e in employees:
            held = self.store.employees.get(e.number)
            if held is None:
                version = 1
            elif (held[0].name, held[0].workshop, held[0].processes, held[0].active) != (
                e.name,
                e.workshop,
                e.processes,
                e.active,
            ):
                version = held[1] + 1
            else:
                continue
            self.store.employees[e.number] = (e, version, True)
            written[e.number] = version
        return written

    async def unannounced(self) -> list[Employee]:
        return [
            replace(e, index=version)
            for number, (e, version, announced) in sorted(self.store.employees.items())
            if not announced
        ]

    async def mark_announced(self, numbers: list[str]) -> None:
        for n in numbers:
            e, version, _ = self.store.employees[n]
            self.store.employees[n] = (e, version, True)

    async def reporter_flag(self, updated_by: str) -> str | None:
        by_number = self.store.employees.get(updated_by)
        matches = (
            [by_number[0]]
            if by_number
            else [e for e, _, _ in self.store.employees.values() if e.name == updated_by]
        )
        if not matches:
            return "unknown"
        return None if any(e.active for e in matches) else "inactive"

    async def flagged_reports(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for p in self.store.progress.values():
            if p.flag is not None:
                counts[p.flag] = counts.get(p.flag, 0) + 1
        return counts


class FakeProcessCatalogRepository:
    def __init__(self, store: FakeStore) -> None:
        self.data = store

    async def known(self) -> list[KnownProcess]:
        return [
            KnownProcess(e.name, (e.name, *e.aliases, *e.former_names), e.active)
            for e in self.data.catalog.values()
        ]

    async def held(self, process_id: int) -> HeldProcess | None:
        e = self.data.catalog.get(process_id)
        return HeldProcess(e.name, e.version) if e else None

    async def store(self, event: ProcessChanged) -> None:
        held = self.data.catalog.get(event.process_id)
        if held is None or held.version < event.version:
            self.data.catalog[event.process_id] = event

    async def rename_progress(self, old: str, new: str) -> None:
        for (c, p, process), state in list(self.data.progress.items()):
            if process == old and (c, p, new) not in self.data.progress:
                del self.data.progress[(c, p, process)]
                self.data.progress[(c, p, new)] = state


class FakeCustomersRepository:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def record(self, capture: Capture, client_id: str) -> int | None:
        held = self.store.customers.get(capture.wechat_id)
        if held is not None and held[1] == capture.content_hash:
            return None
        version = held[0] + 1 if held else 1
        self.store.customers[capture.wechat_id] = (version, capture.content_hash)
        return version


class FakeIngestUnitOfWork(FakeUnitOfWork):
    """One object for every unit of work of a test (`lambda: uow`), so it can count commits across them."""

    def __init__(self, store: FakeStore | None = None) -> None:
        super().__init__()
        self.store = store or FakeStore()
        self.clients = FakeClientsRepository(self.store)
        self.idempotency = FakeIdempotencyRepository(self.store)
        self.lines = FakeLinesRepository(self.store)
        self.progress = FakeProgressRepository(self.store)
        self.employees = FakeEmployeesRepository(self.store)
        self.processes = FakeProcessCatalogRepository(self.store)
        self.customers = FakeCustomersRepository(self.store)
        self.rolled_back = 0
        self._snapshot: FakeStore | None = None
        self._commits_at_enter = 0

    async def __aenter__(self) -> Self:
        self._snapshot = copy.deepcopy(self.store)
        self._commits_at_enter = self.committed
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.committed == self._commits_at_enter and self._snapshot is not None:
            self._restore(self._snapshot)  # not committed: rolled back
            self.rolled_back += 1
        self._snapshot = None
        await super().__aexit__(*exc)

    def _restore(self, snapshot: FakeStore) -> None:
        for name in snapshot.__dataclass_fields__:
            if name != "locks":
                setattr(self.store, name, getattr(snapshot, name))

    def factory(self) -> Self:
        """`UowFactory`: every unit of work of the test is this one."""
        return self


class FakeThrottle:
    """`LoginThrottle` counting in memory: a bucket is full at `limit.per_minute` hits."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}

    async def peek(self, bucket: str, limit: Limit) -> None:
        if self.hits.get(bucket, 0) >= limit.per_minute:
            raise RateLimitedError(60, "minute")

    async def hit(self, bucket: str, limit: Limit) -> None:
        self.hits[bucket] = self.hits.get(bucket, 0) + 1
        if self.hits[bucket] > limit.per_minute:
            raise RateLimitedError(60, "minute")


class FakeIssuer:
    """`TokenIssuer` whose token says what it was issued for."""

    def issue(self, client_id: str, scopes: frozenset[str], version: int) -> str:
        return f"token:{client_id}:{','.join(sorted(scopes))}:v{version}"


def add_client(
    store: FakeStore,
    client_id: str,
    *,
    rows_per_day: int = 10_000,
    scopes: frozenset[str] = frozenset(),
    secret: str = "s3cret",  # noqa: S107
) -> Client:
    client = Client(client_id, hash_secret(secret), scopes, False, 60, 10_000)
    store.clients[client_id] = client
    store.rows_per_day[client_id] = rows_per_day
    return client
