"""WeChat captures and ERP pulls into customers_unified: find the customer, merge, decide."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rules.domain.fields import clean, erp_values
from rules.domain.merge import Observation, merge
from rules.domain.names import company_key
from rules.domain.record import Touch
from rules.domain.sync import merge_settings
from rules.service_layer.decisions import Deps, Trigger, finish, new_customer

if TYPE_CHECKING:
    from common.events.customers import ErpCustomerPulled, WechatCustomerCaptured
    from rules.domain.customer import Customer
    from rules.service_layer.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Captured:
    event: WechatCustomerCaptured
    trigger: Trigger


@dataclass(frozen=True, slots=True)
class Pulled:
    event: ErpCustomerPulled
    trigger: Trigger


def _name_key(name: object) -> str | None:
    cleaned = clean("company_name", name)
    return (company_key(cleaned) or None) if isinstance(cleaned, str) else None


def _identities(name: object, wechat_id: object) -> set[str]:
    """The keys a capture or pull matches on before it may create a customer (see lock_identities)."""
    key, wechat = _name_key(name), clean("wechat_id", wechat_id)
    keys = {f"name:{key}"} if key else set()
    return keys | {f"wechat:{wechat}"} if wechat else keys


async def _capture_target(uow: UnitOfWork, e: WechatCustomerCaptured) -> Customer:
    found = await uow.customers.find("wechat_id", e.wechat_id)
    if found is not None:
        return found
    key = _name_key(e.fields.get("company_name"))
    by_name = await uow.customers.find("name_key_without_wechat", key) if key else None
    if by_name is not None:
        return replace(by_name, wechat_id=e.wechat_id)
    return await new_customer(uow, wechat_id=e.wechat_id)


async def apply_captures(uow: UnitOfWork, batch: list[Captured], deps: Deps) -> None:
    """A capture is full state with a version per wechat_id: only the newest of each applies."""
    newest: dict[str, Captured] = {}
    for item in batch:
        known = newest.get(item.event.wechat_id)
        if known is None or item.event.version > known.event.version:
            newest[item.event.wechat_id] = item
    keys = [_identities(c.event.fields.get("company_name"), c.event.wechat_id) for c in newest.values()]
    await uow.customers.lock_identities(set().union(*keys))
    book = await deps.rulebook.get()
    settings = merge_settings(book)
    for wechat_id in sorted(newest):
        item = newest[wechat_id]
        e = item.event
        customer = await _capture_target(uow, e)
        if e.version <= customer.capture_version:
            continue  # superseded: a newer capture already applied
        values = {**e.fields, "wechat_id": e.wechat_id}
        obs = Observation("local", e.captured_at, values, e.sources, frozenset(e.verified))
        fields, changes = merge(customer.fields, obs, settings)
        customer = replace(customer, fields=fields, capture_version=e.version)
        touch = Touch(local_updated_at=datetime.now(UTC) if changes else None)
        await finish(uow, customer, changes, item.trigger, book, deps, touch)
    await uow.commit()


async def _pull_target(uow: UnitOfWork, e: ErpCustomerPulled) -> Customer:
    found = await uow.customers.find("erp_customer_id", e.erp_id)
    if found is None and e.code:  # a record we created carries our code in khid
        found = await uow.customers.find("code", e.code.strip())
        found = found if found and found.erp_customer_id in (None, e.erp_id) else None
    wechat = clean("wechat_id", e.fields.get("wechat"))
    if found is None and wechat:
        found = await uow.customers.find("wechat_id_without_erp", wechat)
    key = _name_key(e.fields.get("name"))
    if found is None and key:
        found = await uow.customers.find("name_key_without_erp", key)
    if found is None:
        free = wechat is not None and await uow.customers.find("wechat_id", wechat, lock=False) is None
        return await new_customer(uow, erp_customer_id=e.erp_id, wechat_id=wechat if free else None)
    return replace(found, erp_customer_id=e.erp_id)


async def apply_pulls(uow: UnitOfWork, batch: list[Pulled], deps: Deps) -> None:
    """Pulls carry no version; the merge orders them per field by pull time, so a late one moves nothing back."""
    keys = [_identities(p.event.fields.get("name"), p.event.fields.get("wechat")) for p in batch]
    await uow.customers.lock_identities(set().union(*keys))
    book = await deps.rulebook.get()
    settings = merge_settings(book)
    for item in sorted(batch, key=lambda p: (p.event.erp_id, p.event.pulled_at)):
        e = item.event
        customer = await _pull_target(uow, e)
        obs = Observation("erp", e.pulled_at, erp_values(e.erp_id, e.code, e.fields), complete=True)
        fields, changes = merge(customer.fields, obs, settings)
        customer = replace(customer, fields=fields)
        touch = Touch(erp_updated_at=datetime.now(UTC) if changes else None, erp_last_pulled=e.pulled_at)
        await finish(uow, customer, changes, item.trigger, book, deps, touch)
        detail = {"erp_id": e.erp_id, "content_hash": e.content_hash, "changed": [c.field for c in changes]}
        await uow.customers.log(customer.id, "erp_to_local", "pull", "success", detail)
    await uow.commit()
