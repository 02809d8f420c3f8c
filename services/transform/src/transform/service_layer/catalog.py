"""The process catalogue's commands (seed 000 `processes:write`): each one transaction that changes the
catalogue, records its history, bumps the revision consumers watch and writes ProcessChanged to the outbox.

Every command takes the catalogue lock exclusively (adapters.locks): the consumers hold it shared per batch,
so a rename that rewrites stored process names never interleaves with a batch writing them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import outbox, topics
from common.events.envelope import Envelope
from common.events.transform import ProcessChanged
from transform.adapters import catalog_repository as repo
from transform.adapters.locks import lock_catalog
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

if TYPE_CHECKING:
    import asyncpg

SCHEMA = "transform"


def _body_field(body: object, field: str) -> object:
    if not isinstance(body, dict):
        raise CatalogError("invalid_request", "请求体必须是 JSON 对象 / body must be a JSON object")
    return body.get(field)


async def _event(conn: asyncpg.Connection, process_id: int, change: str, correlation_id: str) -> CatalogEntry:
    """Publish the process's current state (outbox, same transaction) and move the revision consumers watch."""
    current = next(e for e in (await repo.load(conn)).entries if e.process_id == process_id)
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
        event_type="ProcessChanged", source=SCHEMA, correlation_id=correlation_id, payload=payload
    )
    await outbox.add(
        conn, SCHEMA, [outbox.row_for(topics.TRANSFORM_PROCESS_CHANGED, str(process_id), envelope)]
    )
    await repo.bump_revision(conn)
    return current


async def _locked(conn: asyncpg.Connection) -> Catalog:
    await lock_catalog(conn)
    return await repo.load(conn)


async def add_process(pool: asyncpg.Pool, body: object, client_id: str, correlation_id: str) -> CatalogEntry:
    """`{"name": "...", "aliases": [...]}`; the name and every alias must be free."""
    name = clean_name(_body_field(body, "name"))
    aliases = clean_names(_body_field(body, "aliases") or [])
    async with pool.acquire() as conn, conn.transaction():
        catalog = await _locked(conn)
        refuse_repeats([name, *aliases])
        catalog.check_free([name, *aliases], await repo.reserved_names(conn))
        process_id = await repo.add(conn, name)
        await repo.add_names(conn, process_id, [name], "name")
        await repo.add_names(conn, process_id, list(aliases), "alias")
        await repo.mark_announced(conn, [process_id])
        await repo.record(conn, process_id, 1, "added", {"name": name, "aliases": list(aliases)}, client_id)
        return await _event(conn, process_id, "added", correlation_id)


async def rename_process(
    pool: asyncpg.Pool, name: str, body: object, client_id: str, correlation_id: str
) -> CatalogEntry:
    """The old name stays a former name of the process: columns and reports that use it still resolve."""
    new = clean_name(_body_field(body, "name"))
    async with pool.acquire() as conn, conn.transaction():
        catalog = await _locked(conn)
        entry = catalog.get(name)
        if new == entry.name:
            return entry
        catalog.check_free([new], await repo.reserved_names(conn), own_id=entry.process_id)
        await repo.rename(conn, entry.process_id, entry.name, new)
        await repo.next_version(conn, entry.process_id, "renamed", {"from": entry.name, "to": new}, client_id)
        return await _event(conn, entry.process_id, "renamed", correlation_id)


async def set_aliases(
    pool: asyncpg.Pool, name: str, body: object, client_id: str, correlation_id: str
) -> CatalogEntry:
    """Replace the aliases (former names are history and stay)."""
    aliases = clean_names(_body_field(body, "aliases"))
    async with pool.acquire() as conn, conn.transaction():
        catalog = await _locked(conn)
        entry = catalog.get(name)
        if set(aliases) == set(entry.aliases):
            return entry
        # An alias it already has may stay; any other name must be free (its own name and former names too).
        kept = {column_key(a) for a in entry.aliases}
        catalog.check_free([a for a in aliases if column_key(a) not in kept], await repo.reserved_names(conn))
        await repo.drop_aliases(conn, entry.process_id)
        await repo.add_names(conn, entry.process_id, list(aliases), "alias")
        detail = {"from": list(entry.aliases), "to": list(aliases)}
        await repo.next_version(conn, entry.process_id, "aliases_changed", detail, client_id)
        return await _event(conn, entry.process_id, "aliases_changed", correlation_id)


async def retire_process(pool: asyncpg.Pool, name: str, client_id: str, correlation_id: str) -> CatalogEntry:
    """A retired process keeps its names (old lines still show it) but no route may use it; 409 while one does."""
    async with pool.acquire() as conn, conn.transaction():
        entry = (await _locked(conn)).get(name)
        if not entry.active:
            return entry
        if used := await repo.routes_using(conn, entry.name):
            raise CatalogError(
                "process_in_route",
                f"工序 {entry.name} 仍在路线 {', '.join(used)} 中，请先从路线移除"
                f" / still on route(s) {', '.join(used)}; take it off first",
                409,
            )
        await repo.retire(conn, entry.process_id)
        await repo.next_version(conn, entry.process_id, "retired", {}, client_id)
        return await _event(conn, entry.process_id, "retired", correlation_id)


async def put_route(pool: asyncpg.Pool, product_type: str, body: object) -> list[dict[str, Any]]:
    """The route's steps in their new order (reorder, add or drop steps); seqs are renumbered 10, 20, ..."""
    async with pool.acquire() as conn, conn.transaction():
        catalog = await _locked(conn)
        current = await _route(conn, product_type)
        steps = parse_route(body, catalog, current)
        await repo.replace_route(conn, product_type, steps)
        await repo.bump_revision(conn)
        return (await repo.routes(conn))[product_type]


async def put_weights(pool: asyncpg.Pool, product_type: str, body: object) -> list[dict[str, Any]]:
    async with pool.acquire() as conn, conn.transaction():
        catalog = await _locked(conn)
        current = await _route(conn, product_type)
        await repo.set_weights(conn, product_type, parse_weights(body, catalog, current))
        await repo.bump_revision(conn)
        return (await repo.routes(conn))[product_type]


async def _route(conn: asyncpg.Connection, product_type: str) -> dict[str, Any]:
    current = await repo.route_weights(conn, product_type)
    if current is None:
        raise CatalogError("unknown_product_type", f"没有产品类型 {product_type} 的路线 / no such route", 404)
    return current


async def announce_unannounced(pool: asyncpg.Pool, correlation_id: str) -> int:
    """At start: publish every process whose current version never was (the migration's seed rows)."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_catalog(conn)
        ids = await repo.unannounced(conn)
        for process_id in ids:
            await _event(conn, process_id, "announced", correlation_id)
        await repo.mark_announced(conn, ids)
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


async def catalog_view(pool: asyncpg.Pool) -> dict[str, Any]:
    catalog = await repo.load(pool)
    return {"processes": [entry_view(e) for e in catalog.entries], "routes": await repo.routes(pool)}


async def process_view(pool: asyncpg.Pool, name: str) -> dict[str, Any]:
    entry = (await repo.load(pool)).get(name)
    return {**entry_view(entry), "history": await repo.history(pool, entry.process_id)}
