"""The process catalogue's commands (seed 000 `processes:write`): each one transaction that changes the
catalogue, records its history, bumps the revision consumers watch and writes ProcessChanged to the outbox.

Every command takes the catalogue lock exclusively (`uow.locks.catalog()`): the consumers hold it shared per batch,
so a rename that rewrites stored process names never interleaves with a batch writing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import topics
from common.events.envelope import Envelope
from common.events.transform import ProcessChanged
from transform.domain.columns import column_key
from transform.domain.process_catalog import (
    Catalog,
    CatalogEntry,
    CatalogError,
    clean_name,
    clean_names,
    parse_route,
    parse_weights,
    refuse_repeats,
)
from transform.service_layer.envelopes import SOURCE

if TYPE_CHECKING:
    from transform.service_layer.ports import UnitOfWork, UowFactory


def _body_field(body: object, field: str) -> object:
    if not isinstance(body, dict):
        raise CatalogError("invalid_request", "请求体必须是 JSON 对象 / body must be a JSON object")
    return body.get(field)


async def _event(uow: UnitOfWork, process_id: int, change: str, correlation_id: str) -> CatalogEntry:
    """Publish the process's current state (outbox, same transaction) and move the revision consumers watch."""
    current = next(e for e in (await uow.catalog.load()).entries if e.process_id == process_id)
    payload = ProcessChanged(
        process_id=current.process_id,
        version=current.version,
        name=current.name,
        aliases=list(current.aliases),
        former_names=list(current.former_names),
        active=current.active,
        change=change,
    )
    envelope = Envelope[ProcessChanged](
        event_type="ProcessChanged", source=SOURCE, correlation_id=correlation_id, payload=payload
    )
    uow.outbox.add(topics.TRANSFORM_PROCESS_CHANGED, str(process_id), envelope)
    await uow.catalog.bump_revision()
    return current


async def _published(uow: UnitOfWork, process_id: int, change: str, correlation_id: str) -> CatalogEntry:
    """The change's event, then commit: the catalogue, its history and the outbox row in one transaction."""
    entry = await _event(uow, process_id, change, correlation_id)
    await uow.commit()
    return entry


async def _locked(uow: UnitOfWork) -> Catalog:
    await uow.locks.catalog()
    return await uow.catalog.load()


async def add_process(start: UowFactory, body: object, client_id: str, correlation_id: str) -> CatalogEntry:
    """`{"name": "...", "aliases": [...]}`; the name and every alias must be free."""
    name = clean_name(_body_field(body, "name"))
    aliases = clean_names(_body_field(body, "aliases") or [])
    async with start() as uow:
        catalog = await _locked(uow)
        refuse_repeats([name, *aliases])
        catalog.check_free([name, *aliases], await uow.catalog.reserved_names())
        process_id = await uow.catalog.add(name)
        await uow.catalog.add_names(process_id, [name], "name")
        await uow.catalog.add_names(process_id, list(aliases), "alias")
        await uow.catalog.mark_announced([process_id])
        await uow.catalog.record(process_id, 1, "added", {"name": name, "aliases": list(aliases)}, client_id)
        return await _published(uow, process_id, "added", correlation_id)


async def rename_process(
    start: UowFactory, name: str, body: object, client_id: str, correlation_id: str
) -> CatalogEntry:
    """The old name stays a former name of the process: columns and reports that use it still resolve."""
    new = clean_name(_body_field(body, "name"))
    async with start() as uow:
        catalog = await _locked(uow)
        entry = catalog.get(name)
        if new == entry.name:
            return entry
        catalog.check_free([new], await uow.catalog.reserved_names(), own_id=entry.process_id)
        await uow.catalog.rename(entry.process_id, entry.name, new)
        await uow.catalog.next_version(
            entry.process_id, "renamed", {"from": entry.name, "to": new}, client_id
        )
        return await _published(uow, entry.process_id, "renamed", correlation_id)


async def set_aliases(
    start: UowFactory, name: str, body: object, client_id: str, correlation_id: str
) -> CatalogEntry:
    """Replace the aliases (former names are history and stay)."""
    aliases = clean_names(_body_field(body, "aliases"))
    async with start() as uow:
        catalog = await _locked(uow)
        entry = catalog.get(name)
        if set(aliases) == set(entry.aliases):
            return entry
        # An alias it already has may stay; any other name must be free (its own name and former names too).
        kept = {column_key(a) for a in entry.aliases}
        catalog.check_free(
            [a for a in aliases if column_key(a) not in kept], await uow.catalog.reserved_names()
        )
        await uow.catalog.drop_aliases(entry.process_id)
        await uow.catalog.add_names(entry.process_id, list(aliases), "alias")
        detail = {"from": list(entry.aliases), "to": list(aliases)}
        await uow.catalog.next_version(entry.process_id, "aliases_changed", detail, client_id)
        return await _published(uow, entry.process_id, "aliases_changed", correlation_id)


async def retire_process(start: UowFactory, name: str, client_id: str, correlation_id: str) -> CatalogEntry:
    """A retired process keeps its names (old lines still show it) but no route may use it; 409 while one does."""
    async with start() as uow:
        entry = (await _locked(uow)).get(name)
        if not entry.active:
            return entry
        if used := await uow.catalog.routes_using(entry.name):
            raise CatalogError(
                "process_in_route",
                f"工序 {entry.name} 仍在路线 {', '.join(used)} 中，请先从路线移除"
                f" / still on route(s) {', '.join(used)}; take it off first",
                409,
            )
        await uow.catalog.retire(entry.process_id)
        await uow.catalog.next_version(entry.process_id, "retired", {}, client_id)
        return await _published(uow, entry.process_id, "retired", correlation_id)


async def put_route(start: UowFactory, product_type: str, body: object) -> list[dict[str, Any]]:
    """The route's steps in their new order (reorder, add or drop steps); seqs are renumbered 10, 20, ..."""
    async with start() as uow:
        catalog = await _locked(uow)
        current = await _route(uow, product_type)
        steps = parse_route(body, catalog, current)
        await uow.catalog.replace_route(product_type, steps)
        return await _route_changed(uow, product_type)


async def put_weights(start: UowFactory, product_type: str, body: object) -> list[dict[str, Any]]:
    async with start() as uow:
        catalog = await _locked(uow)
        current = await _route(uow, product_type)
        await uow.catalog.set_weights(product_type, parse_weights(body, catalog, current))
        return await _route_changed(uow, product_type)


async def _route_changed(uow: UnitOfWork, product_type: str) -> list[dict[str, Any]]:
    await uow.catalog.bump_revision()
    steps = (await uow.catalog.routes())[product_type]
    await uow.commit()
    return steps


async def _route(uow: UnitOfWork, product_type: str) -> dict[str, Any]:
    current = await uow.catalog.route_weights(product_type)
    if current is None:
        raise CatalogError("unknown_product_type", f"没有产品类型 {product_type} 的路线 / no such route", 404)
    return current


async def announce_unannounced(start: UowFactory, correlation_id: str) -> int:
    """At start: publish every process whose current version never was (the migration's seed rows)."""
    async with start() as uow:
        await uow.locks.catalog()
        ids = await uow.catalog.unannounced()
        for process_id in ids:
            await _event(uow, process_id, "announced", correlation_id)
        await uow.catalog.mark_announced(ids)
        await uow.commit()
    return len(ids)


def entry_view(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "id": entry.process_id,
        "name": entry.name,
        "aliases": list(entry.aliases),
        "former_names": list(entry.former_names),
        "active": entry.active,
        "version": entry.version,
    }


async def catalog_view(start: UowFactory) -> dict[str, Any]:
    async with start() as uow:
        catalog = await uow.catalog.load()
        return {"processes": [entry_view(e) for e in catalog.entries], "routes": await uow.catalog.routes()}


async def process_view(start: UowFactory, name: str) -> dict[str, Any]:
    async with start() as uow:
        entry = (await uow.catalog.load()).get(name)
        return {**entry_view(entry), "history": await uow.catalog.history(entry.process_id)}
