"""Every standardized contract's 甲方 becomes a customer candidate linked to its contract lines; a unified
customer of that company then has a contract, which makes the mandatory rule apply."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rules.adapters import customers as customers_repo
from rules.adapters import repository as repo
from rules.domain.names import company_key
from rules.service_layer.decisions import Deps, Trigger, finish

if TYPE_CHECKING:
    import asyncpg

    from common.events.transform import ContractStandardized


async def link_contracts(
    conn: asyncpg.Connection,
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
    if not links:
        return
    await repo.upsert_candidates(conn, {k: name for k, name, _ in links})
    await repo.link(conn, [(k, e.contract_no, e.product_id, e.version) for k, _, e in links])
    if deps is not None and trigger is not None:
        await _mark_customers(conn, sorted({k for k, _, _ in links}), deps, trigger)


async def _mark_customers(
    conn: asyncpg.Connection, name_keys: list[str], deps: Deps, trigger: Trigger
) -> None:
    book = await deps.rulebook.get()
    for customer_id in await customers_repo.unlinked_customers(conn, name_keys):
        customer = await customers_repo.find(conn, "id", customer_id)
        if customer is None or customer.contract_linked:
            continue
        linked = replace(customer, contract_linked=True)
        await finish(conn, linked, [], trigger, book, deps, customers_repo.Touch())
