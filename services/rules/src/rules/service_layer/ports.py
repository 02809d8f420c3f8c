"""What the service layer needs from the outside, as protocols (STYLE.md §2, §7). Adapters implement them on
PostgreSQL (the adapters package); tests implement them in memory (`tests/rules/fakes.py`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    from common.uow import OutboxPort
    from rules.domain.customer import Customer
    from rules.domain.merge import Change
    from rules.domain.record import ContractLink, CustomerRecord, ResyncRequest
    from rules.domain.rule_parsing import Snapshot
    from rules.domain.search import Search
    from rules.domain.sync import Plan


class AbstractCustomerRepository(Protocol):
    """customers_unified and what hangs off it (history, decisions, push requests, sync log)."""

    async def find(self, by: str, value: object, *, lock: bool = True) -> Customer | None:
        """The customer with that identity (`id`, `wechat_id`, `erp_customer_id`, `code`, `phone`, `name_key`,
        `wechat_id_without_erp`, `name_key_without_erp`, `name_key_without_wechat`), locked for the unit of
        work unless `lock=False`; the oldest if several match."""
        ...

    async def lock_identities(self, keys: set[str]) -> None:
        """Hold a lock per identity key until the unit of work ends, so two batches cannot both create one."""
        ...

    async def next_code(self) -> str: ...

    async def save(self, record: CustomerRecord) -> None:
        """Insert or update; times in `record.touch` only move forward."""
        ...

    async def add_history(
        self,
        customer_id: str,
        changes: list[Change],
        trigger: str,
        event_id: uuid.UUID | None,
        changed_by: str = "system",
    ) -> None: ...

    async def add_decision(self, c: Customer, plan: Plan, trigger: str, rulebook_version: int) -> str:
        """Store the decision; returns the id of the transaction it is stored in (the decisions counter)."""
        ...

    async def add_request(self, c: Customer, plan: Plan) -> None: ...

    async def complete_request(
        self,
        customer_id: str,
        version: int,
        result: str,
        erp_id: int | None,
        error: str | None,
        at: datetime,
    ) -> dict[str, Any] | None:
        """Record a push result on its request; returns what that request asked the ERP to hold."""
        ...

    async def log(
        self, customer_id: str, direction: str, kind: str, result: str, detail: dict[str, Any]
    ) -> None: ...

    async def has_contract_lines(self, name_key: str) -> bool: ...

    async def unlinked_customers(self, name_keys: list[str]) -> list[str]:
        """Ids of customers a contract now names as 甲方 that do not know it yet."""
        ...


class AbstractCandidateRepository(Protocol):
    """Companies contracts name as 甲方 and the contract lines that name them."""

    async def upsert(self, names: dict[str, str]) -> None:
        """name key -> company name."""
        ...

    async def link(self, links: list[ContractLink]) -> None:
        """Newer versions of a line move it to the company its 甲方 now names."""
        ...


class AbstractRuleStore(Protocol):
    """Rules, config and field policies as an operator edits them, each edit audited."""

    async def rule(self, name: str) -> dict[str, Any] | None:
        """One rule, locked until the unit of work ends."""
        ...

    async def write_rule(self, new: dict[str, Any], who: str) -> None: ...

    async def config_value(self, key: str) -> tuple[bool, Any]:
        """(exists, value), locked."""
        ...

    async def write_config(self, key: str, value: Any, description: str, who: str) -> None: ...

    async def policy(self, field: str) -> str | None: ...

    async def write_policy(self, field: str, strategy: str, who: str) -> None: ...

    async def audit(self, entity: str, key: str, old: Any, new: Any, who: str) -> None: ...


class AbstractResyncRequests(Protocol):
    async def take_next(self) -> ResyncRequest | None:
        """Remove and return the oldest request no other worker holds; it returns if the unit of work rolls back."""
        ...


class UnitOfWork(Protocol):
    """One transaction: nothing the repositories did, and no outbox event, stays unless `commit()` is called."""

    @property
    def customers(self) -> AbstractCustomerRepository: ...

    @property
    def candidates(self) -> AbstractCandidateRepository: ...

    @property
    def rulebook(self) -> AbstractRuleStore: ...

    @property
    def resync_requests(self) -> AbstractResyncRequests: ...

    @property
    def outbox(self) -> OutboxPort: ...

    async def commit(self) -> None: ...


# A unit of work of its own (HTTP requests, the re-sync poller): `async with uow() as u: ...; await u.commit()`
UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]


class AbstractRuleSource(Protocol):
    """Where rule books come from: the tables, or a fake in tests."""

    async def version(self) -> int: ...

    async def load(self) -> Snapshot: ...


class AbstractCustomerReads(Protocol):
    """Read-side queries for operators and sales staff, outside any unit of work; answers are JSON-ready."""

    async def pending(self, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]: ...

    async def statistics(self, days: int) -> tuple[list[dict[str, Any]], int]: ...

    async def customer(self, customer_id: str) -> tuple[Customer, dict[str, Any]] | None:
        """The customer and what else its row holds (quality, sync state, times)."""
        ...

    async def exists(self, customer_id: str) -> bool: ...

    async def history(self, customer_id: str, limit: int, before: int | None) -> list[dict[str, Any]]: ...

    async def decisions(self, customer_id: str, limit: int) -> list[dict[str, Any]]: ...

    async def customer_page(self, after: str, limit: int) -> list[Customer]:
        """All customers in id order, a page at a time."""
        ...

    async def search(self, s: Search) -> tuple[int, list[dict[str, Any]]]: ...

    async def candidates(self, limit: int, offset: int) -> list[dict[str, Any]]: ...

    async def audit_trail(self, limit: int, before: int | None) -> list[dict[str, Any]]: ...
