"""Ports the service layer depends on; adapters satisfy them structurally (no import upward)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from common.uow import UnitOfWorkPort

if TYPE_CHECKING:
    import uuid

    from erp_connector.domain.breaker import BreakerState
    from erp_connector.domain.control import ControlState
    from erp_connector.domain.customer import ErpCustomer
    from erp_connector.domain.errors import AuthError
    from erp_connector.domain.hashes import HashWrite
    from erp_connector.domain.pages import CustomerPage
    from erp_connector.domain.push import PushItem, PushRequest


class AbstractErpClient(Protocol):
    """The ERP adapter interface (ERP_ZHIBANG.md §11). 智邦 has no modified-since filter, so the
    engine pulls with full scans and content hashes.

    Every call raises the classes of `erp_connector.domain.errors`: AuthError/CaptchaRequiredError
    (never retried: once raised, later calls raise it again without contacting the ERP until
    `reset_auth`), SessionExpiredError only after one re-login and retry failed, BusinessError,
    TransientError, WriteNotPersistedError, CircuitOpenError.
    """

    @property
    def auth_error(self) -> AuthError | None:
        """The credentials rejection that stopped this client, if any."""

    @property
    def breaker_state(self) -> BreakerState: ...

    def breaker_retry_in(self) -> float: ...

    def reset_auth(self) -> None:
        """Allow one new login (an operator resumed, or the credentials changed)."""

    async def login(self) -> None: ...

    async def logout(self) -> None: ...

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
        """One page, sorted by ord ascending, so records added mid-scan land at the end."""

    async def get_customer(self, erp_id: int) -> ErpCustomer | None:
        """The detail view; None when the ERP has no such (visible) record."""

    async def find_by_code(self, code: str) -> ErpCustomer | None:
        """Fuzzy `khid` filter on the server, exact comparison here."""

    async def find_by_name(self, name: str) -> ErpCustomer | None:
        """Fuzzy `name` filter on the server, exact comparison here."""

    async def allocate_customer_id(self, intsort: int) -> int: ...

    async def save_customer(self, erp_id: int, fields: Mapping[str, str], intsort: int) -> None:
        """One save (`__sys_dosave`): inserts at an allocated ord, updates an existing one."""

    async def verify_customer(self, erp_id: int, fields: Mapping[str, str]) -> ErpCustomer:
        """Read back and compare; raises WriteNotPersistedError on a missing record or mismatch."""

    async def create_customer(
        self, fields: Mapping[str, str], intsort: int, erp_id: int | None = None
    ) -> ErpCustomer:
        """Allocate an id (unless given), save, read back and compare."""

    async def update_customer(self, erp_id: int, fields: Mapping[str, str], intsort: int) -> ErpCustomer:
        """Save with the existing ord, read back and compare."""


class AbstractControlRepository(Protocol):
    """The persisted run state and the fingerprint of the credentials a stop was made on."""

    async def load(self) -> tuple[ControlState, str | None]: ...

    async def save(self, state: ControlState, fingerprint: str | None) -> None: ...


class AbstractSyncLogRepository(Protocol):
    """One row per pull or push run (`sync_type` "pull" or "push")."""

    async def add(self, sync_type: str, result: str, detail: dict[str, Any]) -> None: ...

    async def last_syncs(self) -> dict[str, Any]:
        """{"last_pull": {...} | None, "last_push": {...} | None}."""

    async def failures_last_hour(self) -> dict[str, int]:
        """{"runs": failed runs, "pushes": pushes that ended dead}."""


class AbstractHashRepository(Protocol):
    """A content hash per pulled customer, so a full scan emits only new or changed ones."""

    async def next_scan_id(self) -> int: ...

    async def stored(self, erp_ids: list[int]) -> dict[int, tuple[str, int]]:
        """erp_id -> (content hash, version) for those already stored."""

    async def upsert(self, writes: list[HashWrite], scan: int) -> None: ...

    async def touch_seen(self, erp_ids: list[int], scan: int) -> None: ...

    async def mark_unseen(self, scan: int, after_scans: int) -> int:
        """Count a miss for every customer `scan` did not see; flag (never delete) those missed
        `after_scans` times. Returns how many were flagged now."""

    async def counts(self) -> dict[str, int]:
        """{"visible": n, "not_visible": n}."""


class AbstractPushQueue(Protocol):
    """Requests as received, the newest version per customer with its claim and progress, attempts."""

    async def enqueue(self, requests: list[PushRequest]) -> int:
        """Store the requests (a replayed dead one is revived); returns how many were new."""

    async def claim(self, limit: int, lease_s: float) -> list[PushItem]:
        """Due rows (or rows whose lease expired), under a fresh claim token and lease."""

    async def save_progress(self, item: PushItem, lease_s: float) -> bool:
        """Persist progress and renew the lease; False when the claim is no longer ours."""

    async def release(self, item: PushItem, delay_s: float, error: str | None) -> bool:
        """Back to pending, due after `delay_s`; False when the claim was no longer ours."""

    async def finish(self, item: PushItem, outcome: str, error: str | None) -> bool:
        """Mark the claimed version synced or dead; False when the claim was lost."""

    async def add_attempt(
        self, item: PushItem, stage: str, outcome: str, error: str | None, duration_s: float
    ) -> None: ...

    async def next_due_in(self) -> float | None:
        """Seconds until the next pending push is due (0 if now); None if none is pending."""

    async def backlog(self) -> dict[str, Any]:
        """{"queued", "in_flight", "retrying", "oldest_queued_at"}."""


class AbstractDeadLetters(Protocol):
    """Original command bytes bound for a dead-letter topic, written when the unit of work commits."""

    def add(self, topic: str, key: str, payload: bytes, headers: dict[str, str]) -> None: ...


class AbstractInbox(Protocol):
    async def mark_dead(self, consumer: str, event_id: uuid.UUID) -> None:
        """The command's inbox row ends dead, so a replay of it is applied once more."""


class AbstractUnitOfWork(UnitOfWorkPort, Protocol):
    """One transaction over the erp repositories; nothing is kept unless `commit()` is called."""

    @property
    def control(self) -> AbstractControlRepository: ...

    @property
    def sync_logs(self) -> AbstractSyncLogRepository: ...

    @property
    def hashes(self) -> AbstractHashRepository: ...

    @property
    def pushes(self) -> AbstractPushQueue: ...

    @property
    def dead_letters(self) -> AbstractDeadLetters: ...

    @property
    def inbox(self) -> AbstractInbox: ...


# `async with uow_factory() as uow:` a transaction of its own (schedulers, HTTP requests).
UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[AbstractUnitOfWork]]
# `async with pull_lock() as held:` held is False while another replica pulls.
PullLock = Callable[[], AbstractAsyncContextManager[bool]]


class AbstractConnectorMetrics(Protocol):
    """What the handlers count (adapters.metrics.ErpMetrics)."""

    def set_state(self, state: str) -> None: ...

    def push_ended(self, result: str) -> None:
        """A push finished "synced" or "dead" (a dead one also counts as a failed push)."""

    def pull_failed(self) -> None: ...

    def customers_pulled(self, new: int, changed: int, unchanged: int) -> None: ...
