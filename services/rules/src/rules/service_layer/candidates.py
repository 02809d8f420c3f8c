"""Every standardized contract's 甲方 becomes a customer candidate linked to its contract lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.adapters import repository as repo
from rules.domain.names import company_key

if TYPE_CHECKING:
    import asyncpg

    from common.events.transform import ContractStandardized


async def link_contracts(conn: asyncpg.Connection, events: list[ContractStandardized]) -> None:
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
        await repo.upsert_candidates(conn, {k: name for k, name, _ in links})
        await repo.link(conn, [(k, e.contract_no, e.product_id, e.version) for k, _, e in links])
