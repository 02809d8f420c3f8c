"""Every standardized contract's 甲方 becomes a customer candidate linked to its contract lines; a unified
customer of that company then has a contract, which makes the mandatory rule apply."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rules.domain.names import company_key
from rules.domain.record import ContractLink, Touch
from rules.service_layer.decisions import Deps, Trigger, finish

if TYPE_CHECKING:
    from common.events.transform import ContractStandardized
    from rules.service_layer.ports import UnitOfWork


async def link_contracts(
    uow: UnitOfWork,
    events: list[ContractStandardized],
    deps: Deps | None = None,
    trigger: Trigger | None = None,
) -> None:
    latest: dict[tuple[str, str], ContractStandardized] = {}
    for e in events:
        key = (e.contract_no, e.product_id)
        if key not in latest or e.version > latest[key].version:
            latest[key] = e
    links = [
        (company_key(e.party_a), e.party_a, e)
        for e in latest.values()
        if e.party_a and company_key(e.party_a)
    ]
    if links:
        await uow.candidates.upsert({k: name for k, name, _ in links})
        await uow.candidates.link(
            [ContractLink(k, e.contract_no, e.product_id, e.version) for k, _, e in links]
        )
        if deps is not None and trigger is not None:
            await _mark_customers(uow, sorted({k for k, _, _ in links}), deps, trigger)
    await uow.commit()


async def _mark_customers(uow: UnitOfWork, name_keys: list[str], deps: Deps, trigger: Trigger) -> None:
    book = await deps.rulebook.get()
    for customer_id in await uow.customers.unlinked_customers(name_keys):
        customer = await uow.customers.find("id", customer_id)
        if customer is None or customer.contract_linked:
            continue
        linked = replace(customer, contract_linked=True)
        await finish(uow, linked, [], trigger, book, deps, Touch())
