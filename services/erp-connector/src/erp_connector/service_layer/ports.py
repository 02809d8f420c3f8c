"""Ports the service layer depends on; adapters satisfy them structurally (no import upward)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from erp_connector.domain.breaker import BreakerState
    from erp_connector.domain.customer import ErpCustomer
    from erp_connector.domain.errors import AuthError
    from erp_connector.domain.pages import CustomerPage


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
