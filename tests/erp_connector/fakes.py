"""In-memory doubles of erp-connector's ports: handler tests on these need no database and no ERP.

`FakeSvcUnitOfWork` is the unit of work; a factory for handlers is `lambda: uow` (the same object each
time, so `uow.committed` counts every commit a handler made). Repositories keep what handlers write;
`uow.outbox.published` and `uow.dead_letters.published` hold only what was committed.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from erp_connector.domain.breaker import BreakerState
from erp_connector.domain.control import ControlState
from erp_connector.domain.customer import ErpCustomer
from erp_connector.domain.errors import AuthError, WriteNotPersistedError
from erp_connector.domain.hashes import HashWrite
from erp_connector.domain.pages import CustomerPage
from erp_connector.domain.push import Origin, PushItem, PushRequest, Stage, mismatched_fields
from tests.support.fake_uow import FakeUnitOfWork


class FakeControlRepository:
    def __init__(self, state: ControlState | None = None, fingerprint: str | None = None) -> None:
        self.state, self.fingerprint = state or ControlState(), fingerprint
        self.saves = 0

    async def load(self) -> tuple[ControlState, str | None]:
        return self.state, self.fingerprint

    async def save(self, state: ControlState, fingerprint: str | None) -> None:
        self.state, self.fingerprint = state, fingerprint
        self.saves += 1


class FakeSyncLogs:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, dict[str, Any]]] = []
        self.dead_pushes = 0

    async def add(self, sync_type: str, result: str, detail: dict[str, Any]) -> None:
        self.rows.append((sync_type, result, detail))

    async def last_syncs(self) -> dict[str, Any]:
        last = {t: {"result": r, **d} for t, r, d in self.rows}
        return {"last_pull": last.get("pull"), "last_push": last.get("push")}

    async def failures_last_hour(self) -> dict[str, int]:
        return {"runs": sum(1 for _, r, _ in self.rows if r == "failed"), "pushes": self.dead_pushes}


@dataclass
class StoredHash:
    content_hash: str
    version: int
    last_seen_scan: int
    visible: bool = True
    missed_scans: int = 0


class FakeHashes:
    def __init__(self) -> None:
        self.rows: dict[int, StoredHash] = {}
        self._scans = itertools.count(1)

    async def next_scan_id(self) -> int:
        return next(self._scans)

    async def stored(self, erp_ids: list[int]) -> dict[int, tuple[str, int]]:
        return {i: (self.rows[i].content_hash, self.rows[i].version) for i in erp_ids if i in self.rows}

    async def upsert(self, writes: list[HashWrite], scan: int) -> None:
        for w in writes:
            self.rows[w.customer.erp_id] = StoredHash(w.customer.content_hash, w.version, scan)

    async def touch_seen(self, erp_ids: list[int], scan: int) -> None:
        for i in erp_ids:
            row = self.rows[i]
            row.last_seen_scan, row.visible, row.missed_scans = scan, True, 0

    async def mark_unseen(self, scan: int, after_scans: int) -> int:
        flagged = 0
        for row in self.rows.values():
            if row.visible and row.last_seen_scan < scan:
                row.missed_scans += 1
            if row.visible and row.missed_scans >= after_scans:
                row.visible, flagged = False, flagged + 1
        return flagged

    async def counts(self) -> dict[str, int]:
        visible = sum(1 for r in self.rows.values() if r.visible)
        return {"visible": visible, "not_visible": len(self.rows) - visible}


@dataclass
class QueueRow:
    """One erp_push_queue row; `due_at` counts in the fake queue's own clock (`FakePushQueue.now`)."""

    customer_id: str
    version: int
    latest_version: int
    stage: Stage
    erp_id: int | None
    origin: Origin | None
    write_code: bool
    status: str = "pending"
    attempts: int = 0
    read_failures: int = 0
    claim_token: str | None = None
    due_at: float = 0.0
    last_error: str | None = None
    synced_version: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    customer_id: str
    stage: str
    attempt: int
    outcome: str
    error: str | None


class FakePushQueue:
    """The queue's rules as the SQL has them: newest version per customer, claim tokens, leases."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], PushRequest] = {}
        self.outcomes: dict[tuple[str, int], str] = {}
        self.rows: dict[str, QueueRow] = {}
        self.attempts: list[Attempt] = []
        self.now = 0.0
        self.lose_lease: set[str] = set()  # customers whose claim "expires" at the next renewal

    async def enqueue(self, requests: list[PushRequest]) -> int:
        new = [r for r in requests if (r.customer_id, r.version) not in self.requests]
        for r in new:
            self.requests[(r.customer_id, r.version)] = r
            self._queue(r)
        for r in requests:
            row = self.rows.get(r.customer_id)
            if r.replay and row and row.status == "dead" and row.version == r.version == row.latest_version:
                self.outcomes.pop((r.customer_id, r.version), None)
                row.status, row.attempts, row.read_failures, row.due_at = "pending", 0, 0, self.now
        return len(new)

    def _queue(self, r: PushRequest) -> None:
        row = self.rows.get(r.customer_id)
        if row is None:
            stage = Stage.WRITE if r.erp_id else Stage.RESOLVE
            origin = Origin.REQUEST if r.erp_id else None
            self.rows[r.customer_id] = QueueRow(
                r.customer_id,
                r.version,
                r.version,
                stage,
                r.erp_id,
                origin,
                r.erp_id is None,
                due_at=self.now,
            )
            return
        row.latest_version = max(row.latest_version, r.version)
        if row.status in ("synced", "dead") and row.latest_version > row.version:
            row.status, row.due_at = "pending", self.now

    async def claim(self, limit: int, lease_s: float) -> list[PushItem]:
        token = str(uuid.uuid4())
        due = [r for r in self.rows.values() if r.status == "pending" and r.due_at <= self.now][:limit]
        for row in due:
            if row.version != row.latest_version:
                row.attempts = row.read_failures = 0
                row.stage = Stage.WRITE if row.stage is Stage.VERIFY else row.stage
                row.version = row.latest_version
            row.status, row.claim_token = "in_flight", token
        return [self._item(row) for row in due]

    def _item(self, row: QueueRow) -> PushItem:
        assert row.claim_token is not None
        return PushItem(
            customer_id=row.customer_id,
            version=row.version,
            stage=row.stage,
            erp_id=row.erp_id,
            origin=row.origin,
            write_code=row.write_code,
            attempts=row.attempts,
            read_failures=row.read_failures,
            claim_token=row.claim_token,
            request=self.requests[(row.customer_id, row.version)],
            last_error=row.last_error,
        )

    def _ours(self, item: PushItem) -> QueueRow | None:
        row = self.rows[item.customer_id]
        return row if row.claim_token == item.claim_token else None

    def _copy(self, item: PushItem, row: QueueRow) -> None:
        row.stage, row.erp_id, row.origin, row.write_code = (
            item.stage,
            item.erp_id,
            item.origin,
            item.write_code,
        )
        row.attempts, row.read_failures = item.attempts, item.read_failures

    async def save_progress(self, item: PushItem, lease_s: float) -> bool:
        if item.customer_id in self.lose_lease:
            self.rows[item.customer_id].claim_token = "taken-by-another-worker"
        if (row := self._ours(item)) is None:
            return False
        self._copy(item, row)
        return True

    async def release(self, item: PushItem, delay_s: float, error: str | None) -> bool:
        if (row := self._ours(item)) is None:
            return False
        self._copy(item, row)
        row.status, row.claim_token, row.due_at = "pending", None, self.now + delay_s
        row.last_error = error or row.last_error
        return True

    async def finish(self, item: PushItem, outcome: str, error: str | None) -> bool:
        if (row := self._ours(item)) is None:
            return False
        self._copy(item, row)
        row.status = "pending" if row.latest_version > row.version else outcome
        row.synced_version = row.version if outcome == "synced" else row.synced_version
        row.last_error, row.claim_token, row.due_at = error, None, self.now
        for (cid, version), _ in self.requests.items():
            if cid == item.customer_id and version <= item.version:
                self.outcomes.setdefault((cid, version), outcome if version == item.version else "superseded")
        return True

    async def add_attempt(
        self, item: PushItem, stage: str, outcome: str, error: str | None, duration_s: float
    ) -> None:
        self.attempts.append(Attempt(item.customer_id, stage, item.attempts, outcome, error))

    async def next_due_in(self) -> float | None:
        pending = [r.due_at for r in self.rows.values() if r.status == "pending"]
        return max(0.0, min(pending) - self.now) if pending else None

    async def backlog(self) -> dict[str, Any]:
        statuses = [r.status for r in self.rows.values()]
        return {
            "queued": statuses.count("pending"),
            "in_flight": statuses.count("in_flight"),
            "retrying": sum(1 for r in self.rows.values() if r.status == "pending" and r.attempts),
            "oldest_queued_at": None,
        }


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    key: str
    payload: bytes
    headers: dict[str, str]


class FakeDeadLetters:
    def __init__(self) -> None:
        self.pending: list[DeadLetter] = []
        self.published: list[DeadLetter] = []

    def add(self, topic: str, key: str, payload: bytes, headers: dict[str, str]) -> None:
        self.pending.append(DeadLetter(topic, key, payload, headers))


class FakeInbox:
    def __init__(self) -> None:
        self.dead: set[tuple[str, uuid.UUID]] = set()

    async def mark_dead(self, consumer: str, event_id: uuid.UUID) -> None:
        self.dead.add((consumer, event_id))


class FakeSvcUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.control = FakeControlRepository()
        self.sync_logs = FakeSyncLogs()
        self.hashes = FakeHashes()
        self.pushes = FakePushQueue()
        self.dead_letters = FakeDeadLetters()
        self.inbox = FakeInbox()

    async def commit(self) -> None:
        await super().commit()
        self.dead_letters.published += self.dead_letters.pending
        self.dead_letters.pending = []

    async def __aexit__(self, *exc: object) -> None:
        await super().__aexit__(*exc)
        self.dead_letters.pending = []


class FakePullLock:
    def __init__(self, free: bool = True) -> None:
        self.free, self.taken = free, 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[bool]:
        self.taken += 1
        yield self.free


@dataclass
class FakeMetrics:
    state: str | None = None
    pushes: dict[str, int] = field(default_factory=dict)
    pull_failures: int = 0
    pulled: list[tuple[int, int, int]] = field(default_factory=list)

    def set_state(self, state: str) -> None:
        self.state = state

    def push_ended(self, result: str) -> None:
        self.pushes[result] = self.pushes.get(result, 0) + 1

    def pull_failed(self) -> None:
        self.pull_failures += 1

    def customers_pulled(self, new: int, changed: int, unchanged: int) -> None:
        self.pulled.append((new, changed, unchanged))


class FakeErpClient:
    """An ERP of plain dicts. `fail[method]` holds exceptions raised, in order, by the next calls."""

    def __init__(self, customers: list[ErpCustomer] | None = None, page_size_cap: int = 100) -> None:
        self.customers = {c.erp_id: c for c in customers or []}
        self.saved: dict[int, dict[str, str]] = {}
        self.calls: list[str] = []
        self.fail: dict[str, list[Exception]] = {}
        self.auth_error: AuthError | None = None
        self.breaker_state = BreakerState.CLOSED
        self.resets = 0
        self._next_id = 10_000
        self._cap = page_size_cap

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.fail.get(name):
            raise self.fail[name].pop(0)

    def breaker_retry_in(self) -> float:
        return 0.0

    def reset_auth(self) -> None:
        self.resets += 1
        self.auth_error = None

    async def login(self) -> None:
        self._call("login")

    async def logout(self) -> None:
        self._call("logout")

    async def list_customers(
        self,
        page: int,
        page_size: int,
        *,
        name: str | None = None,
        code: str | None = None,
        added_from: str | None = None,
        added_to: str | None = None,
    ) -> CustomerPage:
        self._call("list_customers")
        rows = sorted(self.customers.values(), key=lambda c: c.erp_id)
        size = min(page_size, self._cap)
        count = max(1, -(-len(rows) // size))
        return CustomerPage(page, count, rows[(page - 1) * size : page * size])

    async def get_customer(self, erp_id: int) -> ErpCustomer | None:
        self._call("get_customer")
        return self.customers.get(erp_id)

    async def find_by_code(self, code: str) -> ErpCustomer | None:
        self._call("find_by_code")
        return next((c for c in self.customers.values() if c.code == code), None)

    async def find_by_name(self, name: str) -> ErpCustomer | None:
        self._call("find_by_name")
        return next((c for c in self.customers.values() if c.name == name), None)

    async def allocate_customer_id(self, intsort: int) -> int:
        self._call("allocate_customer_id")
        self._next_id += 1
        return self._next_id

    async def save_customer(self, erp_id: int, fields: Mapping[str, str], intsort: int) -> None:
        self._call("save_customer")
        self.saved[erp_id] = dict(fields)
        self.customers[erp_id] = ErpCustomer(erp_id, code=fields.get("khid"), name=fields.get("name"))

    async def verify_customer(self, erp_id: int, fields: Mapping[str, str]) -> ErpCustomer:
        self._call("verify_customer")
        stored = self.saved.get(erp_id)
        if stored is None or (wrong := mismatched_fields(fields, stored)):
            raise WriteNotPersistedError(erp_id, [] if stored is None else wrong)
        return self.customers[erp_id]

    async def create_customer(
        self, fields: Mapping[str, str], intsort: int, erp_id: int | None = None
    ) -> ErpCustomer:
        erp_id = erp_id or await self.allocate_customer_id(intsort)
        await self.save_customer(erp_id, fields, intsort)
        return await self.verify_customer(erp_id, fields)

    async def update_customer(self, erp_id: int, fields: Mapping[str, str], intsort: int) -> ErpCustomer:
        await self.save_customer(erp_id, fields, intsort)
        return await self.verify_customer(erp_id, fields)


def push_request(
    customer_id: str,
    code: str = "KH-1",
    name: str = "测试彩印有限公司",
    *,
    version: int = 1,
    erp_id: int | None = None,
    replay: bool = False,
    event_id: str | None = None,
) -> PushRequest:
    return PushRequest(
        customer_id=customer_id,
        code=code,
        action="update" if erp_id else "create",
        erp_id=erp_id,
        version=version,
        fields={"name": name, "mobile": "13900000001"},
        event_id=event_id or str(uuid.uuid4()),
        command=b'{"original": "command"}',
        headers={"event_type": "CustomerSyncRequested"},
        replay=replay,
    )
