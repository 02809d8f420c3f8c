"""The 智邦 adapter (`HttpZhibangClient`): ASP-style pages for login, customer list, detail and saves.

Sessions: log in on demand (`txt:` plain-text credentials and a serial number), log in again once
when the session expired and retry once. A rejected login is latched: no call reaches the ERP again
until `reset_auth`, so an unattended job can never walk into the captcha lockout (§3).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from erp_connector.domain.classify import is_not_found
from erp_connector.domain.customer import ErpCustomer, MalformedRowError, customer_from_values, pair_rows
from erp_connector.domain.errors import (
    AuthError,
    BusinessError,
    SessionExpiredError,
    TransientError,
    WriteNotPersistedError,
)
from erp_connector.domain.pages import CustomerPage
from erp_connector.domain.push import exact_code_match, exact_name_match, mismatched_fields

if TYPE_CHECKING:
    from erp_connector.adapters.erp_transport import ErpTransport
    from erp_connector.domain.breaker import BreakerState

PLAIN = "txt:"
LOGIN = "/sysa/mobilephone/login.asp"
LOGOUT = "/sysa/mobilephone/logout.asp"
CUSTOMER_ADD = "/sysa/mobilephone/salesmanage/custom/add.asp"
CUSTOMER_LIST = "/sysa/mobilephone/salesmanage/custom/list.asp"
SAVE = "__sys_dosave"
REFRESH = "refresh"
LOOKUP_PAGE_SIZE = 100
LOOKUP_MAX_PAGES = 10


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: SecretStr
    serialnum: str


def _datas(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"id": key, "val": value} for key, value in fields.items() if value is not None]


class HttpZhibangClient:
    def __init__(self, transport: ErpTransport, credentials: Credentials, *, sort: str = "ord") -> None:
        self._transport, self._credentials, self._sort = transport, credentials, sort
        self._session: str | None = None
        self._login_lock = asyncio.Lock()
        self._auth_error: AuthError | None = None

    # -- session ---------------------------------------------------------------------------------

    @property
    def auth_error(self) -> AuthError | None:
        return self._auth_error

    @property
    def breaker_state(self) -> BreakerState:
        return self._transport.breaker.state

    def breaker_retry_in(self) -> float:
        return self._transport.breaker.retry_in()

    def reset_auth(self, credentials: Credentials | None = None) -> None:
        self._auth_error = None
        if credentials is not None:
            self._credentials, self._session = credentials, None

    async def login(self) -> None:
        async with self._login_lock:
            self._raise_if_stopped()
            await self._login_locked()

    async def logout(self) -> None:
        token, self._session = self._session, None
        if token is not None:
            await self._transport.asp("logout", LOGOUT, {"session": token, "datas": []})

    def _raise_if_stopped(self) -> None:
        if self._auth_error is not None:
            raise self._auth_error

    async def _login_locked(self) -> str:
        c = self._credentials
        body = {
            "cmdkey": "login",
            "datas": _datas(
                {
                    "user": PLAIN + c.username,
                    "password": PLAIN + c.password.get_secret_value(),
                    "serialnum": PLAIN + c.serialnum,
                    "rndcode": "",
                }
            ),
        }
        try:
            envelope = await self._transport.asp("login", LOGIN, body, login=True)
        except AuthError as exc:
            self._auth_error = exc
            raise
        token = envelope.get("header", {}).get("session")
        if not isinstance(token, str) or not token:
            raise TransientError("login answered success without a session token")
        self._session = token
        return token

    async def _token(self, stale: str | None = None) -> str:
        """The current session; log in if there is none or if `stale` is the one that expired."""
        self._raise_if_stopped()
        if self._session is not None and self._session != stale:
            return self._session
        async with self._login_lock:  # one login at a time, however many callers noticed
            self._raise_if_stopped()
            if self._session is not None and self._session != stale:
                return self._session
            return await self._login_locked()

    async def _asp(
        self, operation: str, path: str, fields: Mapping[str, Any], cmdkey: str | None = None
    ) -> dict[str, Any]:
        token = await self._token()
        body: dict[str, Any] = {"session": token, "datas": _datas(fields)}
        if cmdkey:
            body["cmdkey"] = cmdkey
        try:
            return await self._transport.asp(operation, path, body)
        except SessionExpiredError:
            body["session"] = await self._token(stale=token)
            return await self._transport.asp(operation, path, body)  # once: a second expiry propagates

    # -- reads -----------------------------------------------------------------------------------

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
        query = {
            "pagesize": page_size,
            "pageindex": page,
            "_rpt_sort": self._sort,
            "name": name,
            "khid": code,
            "date1_0": added_from,
            "date1_1": added_to,
        }
        envelope = await self._asp("customer_list", CUSTOMER_LIST, query, REFRESH)
        return _page(envelope, page)

    async def get_customer(self, erp_id: int) -> ErpCustomer | None:
        try:
            envelope = await self._asp("customer_detail", f"{CUSTOMER_ADD}?edit=1", {"ord": erp_id})
        except BusinessError as exc:
            if is_not_found(exc, self._transport.vocabulary):
                return None
            raise
        return _detail(envelope)

    async def find_by_code(self, code: str) -> ErpCustomer | None:
        return exact_code_match(await self._filtered(code=code), code)

    async def find_by_name(self, name: str) -> ErpCustomer | None:
        return exact_name_match(await self._filtered(name=name), name)

    async def _filtered(self, *, code: str | None = None, name: str | None = None) -> list[ErpCustomer]:
        found: list[ErpCustomer] = []
        for index in range(1, LOOKUP_MAX_PAGES + 1):
            page = await self.list_customers(index, LOOKUP_PAGE_SIZE, name=name, code=code)
            found.extend(page.customers)
            if page.is_last:
                return found
        raise BusinessError(f"lookup matched over {LOOKUP_MAX_PAGES * LOOKUP_PAGE_SIZE} customers")

    # -- writes ----------------------------------------------------------------------------------

    async def allocate_customer_id(self, intsort: int) -> int:
        envelope = await self._asp("customer_allocate", CUSTOMER_ADD, {"intsort": intsort})
        bill = (envelope.get("body") or {}).get("bill") or {}
        try:
            return int(bill["value"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientError("id allocation answered without a numeric bill.value") from exc

    async def save_customer(self, erp_id: int, fields: Mapping[str, str], intsort: int) -> None:
        await self._asp("customer_save", f"{CUSTOMER_ADD}?intsort={intsort}", {**fields, "ord": erp_id}, SAVE)

    async def verify_customer(self, erp_id: int, fields: Mapping[str, str]) -> ErpCustomer:
        record = await self.get_customer(erp_id)
        if record is None:
            raise WriteNotPersistedError(erp_id, [])
        if missing := mismatched_fields(fields, record.raw):
            raise WriteNotPersistedError(erp_id, missing)
        return record

    async def create_customer(
        self, fields: Mapping[str, str], intsort: int, erp_id: int | None = None
    ) -> ErpCustomer:
        if erp_id is None:
            erp_id = await self.allocate_customer_id(intsort)
        await self.save_customer(erp_id, fields, intsort)
        return await self.verify_customer(erp_id, fields)

    async def update_customer(self, erp_id: int, fields: Mapping[str, str], intsort: int) -> ErpCustomer:
        await self.save_customer(erp_id, fields, intsort)
        return await self.verify_customer(erp_id, fields)


def _source(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    # Most clients read body.source, one reads a top-level source: accept both (§4).
    body = envelope.get("body")
    source = body.get("source") if isinstance(body, Mapping) else None
    source = source if isinstance(source, Mapping) else envelope.get("source")
    if not isinstance(source, Mapping):
        raise TransientError("list answer without a source")
    return source


def _page(envelope: Mapping[str, Any], index: int) -> CustomerPage:
    table = _source(envelope).get("table")
    if not isinstance(table, Mapping):
        # The UI skeleton a list returns without `refresh`, or a page we did not ask for.
        raise TransientError("list answer without a table")
    try:
        cols = [str(c["id"]) for c in table.get("cols") or []]
        rows = pair_rows(cols, table.get("rows") or [])
        customers = [customer_from_values(row) for row in rows]
        page_count = int((table.get("page") or {}).get("pagecount") or 0)
    except (MalformedRowError, KeyError, TypeError, ValueError) as exc:
        raise TransientError(f"unreadable customer table: {exc}") from exc
    return CustomerPage(index, page_count, customers)


def _detail(envelope: Mapping[str, Any]) -> ErpCustomer:
    bill = (envelope.get("body") or {}).get("bill")
    if not isinstance(bill, Mapping):
        raise TransientError("detail answer without a bill")
    values: dict[str, Any] = {"ord": bill.get("value")}
    texts: dict[str, Any] = {}
    for group in bill.get("groups") or []:
        for f in group.get("fields") or [] if isinstance(group, Mapping) else []:
            if isinstance(f, Mapping) and "id" in f:
                values[str(f["id"])] = f.get("value")
                if "text" in f:
                    texts[str(f["id"])] = f["text"]
    try:
        return customer_from_values(values, texts)
    except MalformedRowError as exc:
        raise TransientError(f"unreadable customer detail: {exc}") from exc
