"""In-memory implementations of rules' ports (`rules.service_layer.ports`): handler tests on these need no
PostgreSQL and no Kafka. Like the real unit of work, `FakeSvcUnitOfWork` keeps only what was committed: leaving
`async with` without `commit()` (or on an error) puts every repository back as it was at the last commit."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rules.domain.customer import Customer, SyncState
from rules.domain.default_rules import DEFAULT_RULES
from rules.domain.rule_parsing import Snapshot, rule_dict
from rules.service_layer.decisions import Deps
from rules.service_layer.rulebook_cache import RuleBookCache
from tests.support.fake_uow import FakeUnitOfWork

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from rules.domain.merge import Change
    from rules.domain.record import ContractLink, CustomerRecord, ResyncRequest
    from rules.domain.rulebook import Decision
    from rules.domain.search import Search
    from rules.domain.sync import Plan
    from rules.service_layer.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class HistoryRow:
    customer_id: str
    change: Change
    trigger: str
    event_id: uuid.UUID | None
    changed_by: str


@dataclass(frozen=True, slots=True)
class DecisionRow:
    customer_id: str
    rule: str
    action: str
    emitted: bool
    sync_version: int | None
    trigger: str
    rulebook_version: int


@dataclass(frozen=True, slots=True)
class LogRow:
    customer_id: str
    direction: str
    kind: str
    result: str
    detail: dict[str, Any]


def _customer(r: CustomerRecord) -> Customer:
    sync = SyncState(r.sync_status, r.sync_version, r.result_version, dict(r.requested_fields))  # type: ignore[arg-type]
    return Customer(
        r.id,
        r.code,
        dict(r.fields),
        r.wechat_id,
        r.erp_customer_id,
        r.contract_linked,
        r.capture_version,
        sync,
    )


def _matches(r: CustomerRecord, by: str, value: object) -> bool:
    """What the real repository's WHERE clause for `by` answers."""
    phone = r.fields["phone"].value if "phone" in r.fields else None
    no_erp, no_wechat = r.erp_customer_id is None, r.wechat_id is None
    answers = {
        "id": r.id == value,
        "wechat_id": r.wechat_id == value,
        "erp_customer_id": r.erp_customer_id == value,
        "code": r.code == value,
        "phone": phone == value,
        "name_key": r.name_key == value,
        "wechat_id_without_erp": r.wechat_id == value and no_erp,
        "name_key_without_erp": r.name_key == value and no_erp,
        "name_key_without_wechat": r.name_key == value and no_wechat,
    }
    return answers[by]


class FakeCandidateRepository:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.links: dict[tuple[str, str], ContractLink] = {}

    async def upsert(self, names: dict[str, str]) -> None:
        for key, name in names.items():
            self.names.setdefault(key, name)

    async def link(self, links: list[ContractLink]) -> None:
        for x in links:
            known = self.links.get((x.contract_no, x.product_id))
            if known is None or known.version < x.version:
                self.links[(x.contract_no, x.product_id)] = x


class FakeCustomerRepository:
    def __init__(self, candidates: FakeCandidateRepository) -> None:
        self._candidates = candidates
        self.rows: dict[str, CustomerRecord] = {}  # insertion order: the oldest first, as `find` prefers
        self.history: list[HistoryRow] = []
        self.decisions: list[DecisionRow] = []
        self.requests: dict[tuple[str, int], dict[str, Any]] = {}
        self.logs: list[LogRow] = []
        self.locked: set[str] = set()
        self._codes = 0  # a sequence: never rolled back (see _restore)
        self._txids = 0

    async def find(self, by: str, value: object, *, lock: bool = True) -> Customer | None:
        return next((_customer(r) for r in self.rows.values() if _matches(r, by, value)), None)

    async def lock_identities(self, keys: set[str]) -> None:
        self.locked |= keys

    async def next_code(self) -> str:
        self._codes += 1
        return f"KH-{self._codes:06d}"

    async def save(self, record: CustomerRecord) -> None:
        known = self.rows.get(record.id)
        if known is not None and record.touch.error is None and not record.touch.clear_error:
            record = replace(record, touch=replace(record.touch, error=known.touch.error))
        self.rows[record.id] = record

    async def add_history(
        self,
        customer_id: str,
        changes: list[Change],
        trigger: str,
        event_id: uuid.UUID | None,
        changed_by: str = "system",
    ) -> None:
        self.history += [HistoryRow(customer_id, c, trigger, event_id, changed_by) for c in changes]

    async def add_decision(self, c: Customer, plan: Plan, trigger: str, rulebook_version: int) -> str:
        d = plan.decision
        version = c.sync.version if plan.emit else None
        self.decisions.append(
            DecisionRow(c.id, d.rule, d.action, plan.emit, version, trigger, rulebook_version)
        )
        self._txids += 1
        return f"tx{self._txids}"

    async def add_request(self, c: Customer, plan: Plan) -> None:
        self.requests[(c.id, c.sync.version)] = {"fields": dict(plan.push), "result": None}

    async def complete_request(
        self,
        customer_id: str,
        version: int,
        result: str,
        erp_id: int | None,
        error: str | None,
        at: datetime,
    ) -> dict[str, Any] | None:
        request = self.requests.get((customer_id, version))
        if request is None:
            return None
        request.update(result=result, erp_id=erp_id, error=error, completed_at=at)
        return dict(request["fields"])

    async def log(
        self, customer_id: str, direction: str, kind: str, result: str, detail: dict[str, Any]
    ) -> None:
        self.logs.append(LogRow(customer_id, direction, kind, result, detail))

    async def has_contract_lines(self, name_key: str) -> bool:
        return any(x.name_key == name_key for x in self._candidates.links.values())

    async def unlinked_customers(self, name_keys: list[str]) -> list[str]:
        return sorted(r.id for r in self.rows.values() if r.name_key in name_keys and not r.contract_linked)

    def one(self) -> CustomerRecord:
        (record,) = self.rows.values()
        return record


class FakeRuleStore:
    def __init__(self) -> None:
        self.rules: dict[str, dict[str, Any]] = {r.name: rule_dict(r) for r in DEFAULT_RULES}
        self.config: dict[str, Any] = {}
        self.policies: dict[str, str] = {}
        self.audits: list[dict[str, Any]] = []

    async def rule(self, name: str) -> dict[str, Any] | None:
        found = self.rules.get(name)
        return copy.deepcopy(found) if found is not None else None

    async def write_rule(self, new: dict[str, Any], who: str) -> None:
        self.rules[new["name"]] = {**copy.deepcopy(new), "updated_by": who}

    async def config_value(self, key: str) -> tuple[bool, Any]:
        return (key in self.config, self.config.get(key))

    async def write_config(self, key: str, value: Any, description: str, who: str) -> None:
        self.config[key] = value

    async def policy(self, field: str) -> str | None:
        return self.policies.get(field)

    async def write_policy(self, field: str, strategy: str, who: str) -> None:
        self.policies[field] = strategy

    async def audit(self, entity: str, key: str, old: Any, new: Any, who: str) -> None:
        self.audits.append(
            {
                "id": len(self.audits) + 1,
                "entity": entity,
                "key": key,
                "old": old,
                "new": new,
                "changed_by": who,
            }
        )


class FakeResyncRequests:
    def __init__(self) -> None:
        self.queue: deque[ResyncRequest] = deque()

    async def take_next(self) -> ResyncRequest | None:
        return self.queue.popleft() if self.queue else None


class FakeSvcUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.candidates = FakeCandidateRepository()
        self.customers = FakeCustomerRepository(self.candidates)
        self.rulebook = FakeRuleStore()
        self.resync_requests = FakeResyncRequests()
        self._saved = self._state()

    def _state(self) -> dict[str, Any]:
        repos = (self.candidates, self.customers, self.rulebook, self.resync_requests)
        return {name: copy.deepcopy(vars(repo)) for name, repo in zip("abcd", repos, strict=True)}

    def _restore(self) -> None:
        codes = self.customers._codes
        repos = (self.candidates, self.customers, self.rulebook, self.resync_requests)
        for name, repo in zip("abcd", repos, strict=True):
            vars(repo).clear()
            vars(repo).update(copy.deepcopy(self._saved[name]))
        self.customers._candidates = self.candidates
        self.customers._codes = codes  # like nextval(): a sequence does not roll back

    async def commit(self) -> None:
        await super().commit()
        self._saved = self._state()

    async def __aexit__(self, *exc: object) -> None:
        self._restore()  # what was not committed is rolled back
        await super().__aexit__(*exc)

    def factory(self) -> Callable[[], AbstractAsyncContextManager[UnitOfWork]]:
        """As `bootstrap.uow_factory` gives: every call a unit of work (here always this one)."""
        return lambda: self


class FakeRuleSource:
    """The rule book from a `FakeRuleStore`, with a version that moves on every edit."""

    def __init__(self, store: FakeRuleStore) -> None:
        self._store = store

    async def version(self) -> int:
        return 1 + len(self._store.audits)

    async def load(self) -> Snapshot:
        s = self._store
        rules = [copy.deepcopy(r) for r in s.rules.values()]
        return await self.version(), rules, dict(s.config), dict(s.policies)


class DecisionLog:
    def __init__(self) -> None:
        self.seen: list[tuple[Decision, str]] = []

    def __call__(self, decision: Decision, txid: str) -> None:
        self.seen.append((decision, txid))


def deps_for(uow: FakeSvcUnitOfWork, on_decision: DecisionLog | None = None) -> Deps:
    cache = RuleBookCache(FakeRuleSource(uow.rulebook))
    return Deps(cache, on_decision) if on_decision is not None else Deps(cache)


class FakeCustomerReads:
    """The read side over the fake unit of work's committed state."""

    def __init__(self, uow: FakeSvcUnitOfWork) -> None:
        self._uow = uow
        self.pending_rows: list[dict[str, Any]] = []
        self.statistics_rows: list[dict[str, Any]] = []
        self.failures_last_hour = 0

    async def pending(self, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        return len(self.pending_rows), self.pending_rows[offset : offset + limit]

    async def statistics(self, days: int) -> tuple[list[dict[str, Any]], int]:
        return self.statistics_rows, self.failures_last_hour

    async def customer(self, customer_id: str) -> tuple[Customer, dict[str, Any]] | None:
        r = self._uow.customers.rows.get(customer_id)
        return (_customer(r), {"name_key": r.name_key}) if r is not None else None

    async def exists(self, customer_id: str) -> bool:
        return customer_id in self._uow.customers.rows

    async def history(self, customer_id: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        rows = [
            {"id": i, "field": h.change.field, "trigger": h.trigger, "changed_by": h.changed_by}
            for i, h in enumerate(self._uow.customers.history, start=1)
            if h.customer_id == customer_id and (before is None or i < before)
        ]
        return rows[::-1][:limit]

    async def decisions(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        rows = [d for d in self._uow.customers.decisions if d.customer_id == customer_id]
        return [{"rule": d.rule, "action": d.action, "trigger": d.trigger} for d in rows[::-1][:limit]]

    async def customer_page(self, after: str, limit: int) -> list[Customer]:
        ids = sorted(i for i in self._uow.customers.rows if i > after)[:limit]
        return [_customer(self._uow.customers.rows[i]) for i in ids]

    async def search(self, s: Search) -> tuple[int, list[dict[str, Any]]]:
        found = [
            {"id": r.id, "code": r.code, "data_quality_score": r.quality_score}
            for r in self._uow.customers.rows.values()
            if (s.status is None or r.sync_status == s.status)
            and (s.min_quality is None or r.quality_score >= s.min_quality)
        ]
        return len(found), found[s.offset : s.offset + s.limit]

    async def candidates(self, limit: int, offset: int) -> list[dict[str, Any]]:
        c = self._uow.candidates
        rows = [
            {
                "company_name": name,
                "contracts": sorted(x.contract_no for x in c.links.values() if x.name_key == key),
            }
            for key, name in sorted(c.names.items(), key=lambda kv: kv[1])
        ]
        return rows[offset : offset + limit]

    async def audit_trail(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        rows = [a for a in self._uow.rulebook.audits if before is None or a["id"] < before]
        return rows[::-1][:limit]
