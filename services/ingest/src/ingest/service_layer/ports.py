"""What the service layer needs from storage and tokens, as Protocols (STYLE.md §3.2, §3.7).

The PostgreSQL adapters implement them; `tests/ingest/fakes.py` holds in-memory doubles.
Repositories take and return domain objects or the plain dataclasses below, never database records.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias

from common.uow import UnitOfWorkPort

if TYPE_CHECKING:
    from common.events.transform import ProcessChanged
    from common.rate_limit import Limit
    from ingest.domain.capture import Capture
    from ingest.domain.clients import Client
    from ingest.domain.deletions import Deletion
    from ingest.domain.employees import Employee
    from ingest.domain.lines import Line
    from ingest.domain.processes import KnownProcess

LineKey = tuple[str, str]  # (合同编号, 产品ID)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class ProgressRow:
    version: int
    update_time: datetime


@dataclass(frozen=True, slots=True)
class HeldProcess:
    name: str
    version: int


@dataclass(frozen=True, slots=True)
class ClientSeen:
    client_id: str
    scopes: frozenset[str]
    last_seen: float | None  # Unix seconds


@dataclass(frozen=True, slots=True)
class Revocation:
    client_id: str
    min_version: int
    disabled: bool


@dataclass(frozen=True, slots=True)
class ClientListing:
    client_id: str
    scopes: tuple[str, ...]
    disabled: bool
    rate_per_minute: int
    rate_per_day: int
    rows_per_day: int


@dataclass(frozen=True, slots=True)
class NewClient:
    client_id: str
    name: str
    secret_hash: str
    scopes: list[str]
    per_minute: int
    per_day: int
    rows_per_day: int


class ClientsRepository(Protocol):
    """System clients: credentials, token versions, limits and last-seen times."""

    async def get(self, client_id: str) -> Client | None: ...

    async def revocations(self) -> list[Revocation]:
        """Clients whose older tokens are refused: disabled ones and those whose version was raised."""

    async def add_daily_rows(self, client_id: str, day_start: datetime, rows: int) -> tuple[bool, int]:
        """Count `rows` for the day unless that passes the client's `rows_per_day`: (counted, limit)."""

    async def record_seen(self, client_id: str) -> None:
        """The client called now; never moves the stored time back."""

    async def enabled_seen(self) -> list[ClientSeen]: ...

    async def create(self, client: NewClient, *, if_missing: bool) -> bool:
        """False when `if_missing` and the id exists; without it an existing id is an error."""

    async def listing(self) -> list[ClientListing]: ...

    async def set_disabled(self, client_id: str, disabled: bool) -> bool: ...

    async def rotate(self, client_id: str, secret_hash: str) -> bool: ...

    async def set_rows_per_day(self, client_id: str, rows_per_day: int) -> bool: ...


class IdempotencyRepository(Protocol):
    """Stored answers to Idempotency-Keys (DELIVERY.md §9)."""

    async def lock(self, client_id: str, key: str) -> None:
        """Serialise requests with one key until the end of the unit of work."""

    async def get(self, client_id: str, key: str) -> StoredResponse | None: ...

    async def add(self, client_id: str, key: str, request_hash: str, status: int, body: bytes) -> None: ...


class LinesRepository(Protocol):
    """Contract lines (`hetong` rows), written in bulk."""

    async def existing_hashes(self, lines: list[Line]) -> dict[LineKey, str]: ...

    async def upsert(
        self, lines: list[Line], overwrite: bool, source: str, client_id: str
    ) -> dict[LineKey, int]:
        """New lines, changed ones when `overwrite`, deleted ones always: their new versions."""

    async def delete(
        self, deletions: list[Deletion], source: str, client_id: str
    ) -> tuple[dict[LineKey, int], set[LineKey]]:
        """(new versions of the lines now deleted, lines that were deleted already)."""

    async def contract_processes(self, contract_no: str) -> tuple[set[str], set[str]] | None:
        """(product ids, column names) of a contract's lines; None when it was never received."""


class ProgressRepository(Protocol):
    """Progress states per contract line and process."""

    async def lock(self, contract_no: str, product_id: str, process: str) -> ProgressRow | None:
        """Lock the state (even one not stored yet) until the end of the unit of work; its current row."""

    async def save(
        self,
        contract_no: str,
        product_id: str,
        process: str,
        status: str,
        updated_by: str,
        update_time: datetime,
    ) -> int:
        """Store the status with the next version; returns it."""

    async def flag_reporter(
        self, contract_no: str, product_id: str, process: str, flag: str | None
    ) -> None: ...


class EmployeesRepository(Protocol):
    """The factory's employee list."""

    async def upsert(self, employees: list[Employee], client_id: str) -> dict[str, int]:
        """The numbers created or changed, with their new version (an identical row keeps its own)."""

    async def unannounced(self) -> list[Employee]:
        """Rows never published, locked; `index` holds their version."""

    async def mark_announced(self, numbers: list[str]) -> None: ...

    async def reporter_flag(self, updated_by: str) -> str | None:
        """None for an active employee (by number, else name); 'inactive' or 'unknown' otherwise."""

    async def flagged_reports(self) -> dict[str, int]:
        """Progress states per reporter flag."""


class ProcessCatalogRepository(Protocol):
    """ingest's copy of transform's process catalogue."""

    async def known(self) -> list[KnownProcess]: ...

    async def held(self, process_id: int) -> HeldProcess | None:
        """The copy's row, locked until the end of the unit of work."""

    async def store(self, event: ProcessChanged) -> None:
        """The event's state, unless the copy already holds a higher version."""

    async def rename_progress(self, old: str, new: str) -> None:
        """Progress recorded under the old name continues under the new one."""


class CustomersRepository(Protocol):
    """WeChat-captured customers."""

    async def record(self, capture: Capture, client_id: str) -> int | None:
        """The capture's new version, or None when its content is unchanged."""


class UnitOfWork(UnitOfWorkPort, Protocol):
    """One transaction: repositories, outbox events written at `commit()`; rolled back without it."""

    @property
    def clients(self) -> ClientsRepository: ...
    @property
    def idempotency(self) -> IdempotencyRepository: ...
    @property
    def lines(self) -> LinesRepository: ...
    @property
    def progress(self) -> ProgressRepository: ...
    @property
    def employees(self) -> EmployeesRepository: ...
    @property
    def processes(self) -> ProcessCatalogRepository: ...
    @property
    def customers(self) -> CustomersRepository: ...


# A unit of work of its own (`async with uow() as u:`): HTTP requests, start-up jobs, the CLI, metrics.
UowFactory: TypeAlias = Callable[[], AbstractAsyncContextManager[UnitOfWork]]


class TokenIssuer(Protocol):
    """Signs access tokens."""

    def issue(self, client_id: str, scopes: frozenset[str], version: int) -> str: ...


class LoginThrottle(Protocol):
    """Shared failure counters (common.rate_limit.RateLimiter)."""

    async def peek(self, bucket: str, limit: Limit) -> None:
        """RateLimitedError when the bucket is already full; counts nothing."""

    async def hit(self, bucket: str, limit: Limit) -> None:
        """Count one; RateLimitedError when that passes the limit."""
