"""SQL for the process catalogue: processes, their names, history, routes and the revision consumers watch."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from transform.domain.columns import BOOKKEEPING_COLUMNS, column_key
from transform.domain.process_catalog import Catalog, CatalogEntry, RouteStep, route_seqs

if TYPE_CHECKING:
    import asyncpg


class PostgresCatalog:
    """transform.service_layer.ports.CatalogRepository on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def load(self) -> Catalog:
        return await load(self._conn)

    async def reserved_names(self) -> frozenset[str]:
        return await reserved_names(self._conn)

    async def routes(self) -> dict[str, list[dict[str, Any]]]:
        return await routes(self._conn)

    async def history(self, process_id: int) -> list[dict[str, Any]]:
        return await history(self._conn, process_id)

    async def add(self, name: str) -> int:
        return await add(self._conn, name)

    async def add_names(self, process_id: int, names: list[str], kind: str) -> None:
        await add_names(self._conn, process_id, names, kind)

    async def drop_aliases(self, process_id: int) -> None:
        await drop_aliases(self._conn, process_id)

    async def rename(self, process_id: int, old: str, new: str) -> None:
        await rename(self._conn, process_id, old, new)

    async def retire(self, process_id: int) -> None:
        await retire(self._conn, process_id)

    async def routes_using(self, name: str) -> list[str]:
        return await routes_using(self._conn, name)

    async def route_weights(self, product_type: str) -> dict[str, Decimal] | None:
        return await route_weights(self._conn, product_type)

    async def replace_route(self, product_type: str, steps: tuple[RouteStep, ...]) -> None:
        await replace_route(self._conn, product_type, steps)

    async def set_weights(self, product_type: str, weights: dict[str, Decimal]) -> None:
        await set_weights(self._conn, product_type, weights)

    async def next_version(
        self, process_id: int, change: str, detail: dict[str, Any], client_id: str
    ) -> None:
        await next_version(self._conn, process_id, change, detail, client_id)

    async def record(
        self, process_id: int, version: int, change: str, detail: dict[str, Any], client_id: str
    ) -> None:
        await record(self._conn, process_id, version, change, detail, client_id)

    async def bump_revision(self) -> None:
        await bump_revision(self._conn)

    async def unannounced(self) -> list[int]:
        return await unannounced(self._conn)

    async def mark_announced(self, ids: list[int]) -> None:
        await mark_announced(self._conn, ids)


async def load(conn: asyncpg.Connection | asyncpg.Pool) -> Catalog:
    rows = await conn.fetch(
        """SELECT p.process_id, p.name, p.active, p.version,
                  coalesce(array_agg(n.name ORDER BY n.added_at, n.name) FILTER (WHERE n.kind = 'alias'), '{}')
                    AS aliases,
                  coalesce(array_agg(n.name ORDER BY n.added_at, n.name) FILTER (WHERE n.kind = 'former'), '{}')
                    AS former_names
           FROM processes p LEFT JOIN process_names n USING (process_id)
           GROUP BY p.process_id ORDER BY p.process_id"""
    )
    return Catalog(
        CatalogEntry(
            r["process_id"],
            r["name"],
            tuple(r["aliases"]),
            tuple(r["former_names"]),
            r["active"],
            r["version"],
        )
        for r in rows
    )


async def reserved_names(conn: asyncpg.Connection) -> frozenset[str]:
    """Column keys a process may not take: the contract's mapped fields and the sync job's bookkeeping."""
    sources = [r["source"] for r in await conn.fetch("SELECT source FROM field_mapping")]
    return frozenset(column_key(s) for s in sources) | BOOKKEEPING_COLUMNS


async def routes(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in await conn.fetch("SELECT product_type, seq, process, weight FROM process_routes ORDER BY 1, 2"):
        out.setdefault(r["product_type"], []).append(
            {"seq": r["seq"], "process": r["process"], "weight": r["weight"]}
        )
    return out


async def history(conn: asyncpg.Connection | asyncpg.Pool, process_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT version, change, detail, client_id, at FROM process_history WHERE process_id = $1 ORDER BY id",
        process_id,
    )
    return [{**dict(r), "detail": orjson.loads(r["detail"])} for r in rows]


async def add(conn: asyncpg.Connection, name: str) -> int:
    return int(await conn.fetchval("INSERT INTO processes (name) VALUES ($1) RETURNING process_id", name))


async def add_names(conn: asyncpg.Connection, process_id: int, names: list[str], kind: str) -> None:
    await conn.executemany(
        "INSERT INTO process_names (name_key, name, process_id, kind) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (name_key) DO UPDATE SET name = excluded.name, kind = excluded.kind, added_at = now()"
        " WHERE process_names.process_id = excluded.process_id",
        [(column_key(n), n, process_id, kind) for n in names],
    )


async def drop_aliases(conn: asyncpg.Connection, process_id: int) -> None:
    await conn.execute("DELETE FROM process_names WHERE process_id = $1 AND kind = 'alias'", process_id)


async def rename(conn: asyncpg.Connection, process_id: int, old: str, new: str) -> None:
    """The old name becomes a former name; every stored row that names the process by it follows."""
    await conn.execute(
        "UPDATE process_names SET kind = 'former', added_at = now() WHERE process_id = $1 AND kind = 'name'",
        process_id,
    )
    await add_names(conn, process_id, [new], "name")
    await conn.execute("UPDATE processes SET name = $2 WHERE process_id = $1", process_id, new)
    await conn.execute("UPDATE process_routes SET process = $2 WHERE process = $1", old, new)
    # A line that already holds a row under the new name (a column spelled so) keeps that one. A line state
    # without a recorded column (stored before columns were) used the old name: the agent writes back there.
    await conn.execute(
        "UPDATE product_processes t SET process = $2, source_column = coalesce(t.source_column, $1)"
        " WHERE t.process = $1 AND NOT EXISTS (SELECT 1 FROM product_processes o WHERE o.contract_no = t.contract_no"
        " AND o.product_id = t.product_id AND o.process = $2)",
        old,
        new,
    )
    await conn.execute(
        "UPDATE progress_reports t SET process = $2 WHERE t.process = $1 AND NOT EXISTS (SELECT 1 FROM"
        " progress_reports o WHERE o.contract_no = t.contract_no AND o.product_id = t.product_id AND o.process = $2)",
        old,
        new,
    )
    await conn.execute("UPDATE products SET current_process = $2 WHERE current_process = $1", old, new)


async def retire(conn: asyncpg.Connection, process_id: int) -> None:
    await conn.execute("UPDATE processes SET active = false WHERE process_id = $1", process_id)


async def routes_using(conn: asyncpg.Connection, name: str) -> list[str]:
    rows = await conn.fetch("SELECT product_type FROM process_routes WHERE process = $1 ORDER BY 1", name)
    return [r["product_type"] for r in rows]


async def route_weights(conn: asyncpg.Connection, product_type: str) -> dict[str, Decimal] | None:
    """The route's current weights by process, or None when the product type has no route."""
    rows = await conn.fetch(
        "SELECT process, weight FROM process_routes WHERE product_type = $1 ORDER BY seq FOR UPDATE",
        product_type,
    )
    return {r["process"]: r["weight"] for r in rows} if rows else None


async def replace_route(conn: asyncpg.Connection, product_type: str, steps: tuple[RouteStep, ...]) -> None:
    await conn.execute("DELETE FROM process_routes WHERE product_type = $1", product_type)
    await conn.executemany(
        "INSERT INTO process_routes (product_type, seq, process, weight) VALUES ($1, $2, $3, $4)",
        [
            (product_type, seq, s.process, s.weight)
            for seq, s in zip(route_seqs(len(steps)), steps, strict=True)
        ],
    )


async def set_weights(conn: asyncpg.Connection, product_type: str, weights: dict[str, Decimal]) -> None:
    await conn.executemany(
        "UPDATE process_routes SET weight = $3 WHERE product_type = $1 AND process = $2",
        [(product_type, p, w) for p, w in weights.items()],
    )


async def next_version(
    conn: asyncpg.Connection, process_id: int, change: str, detail: dict[str, Any], client_id: str
) -> None:
    """One change of one process: its version +1, a history row, and a marker that it is being published."""
    version = await conn.fetchval(
        "UPDATE processes SET version = version + 1, announced = true, updated_at = now() WHERE process_id = $1"
        " RETURNING version",
        process_id,
    )
    await record(conn, process_id, version, change, detail, client_id)


async def record(
    conn: asyncpg.Connection,
    process_id: int,
    version: int,
    change: str,
    detail: dict[str, Any],
    client_id: str,
) -> None:
    await conn.execute(
        "INSERT INTO process_history (process_id, version, change, detail, client_id) VALUES ($1, $2, $3, $4, $5)",
        process_id,
        version,
        change,
        orjson.dumps(detail).decode(),
        client_id,
    )


async def bump_revision(conn: asyncpg.Connection) -> None:
    await conn.execute("UPDATE catalog_revision SET revision = revision + 1")


async def unannounced(conn: asyncpg.Connection) -> list[int]:
    """Processes whose current version was never published (the migration's seed rows), locked."""
    rows = await conn.fetch("SELECT process_id FROM processes WHERE NOT announced ORDER BY 1 FOR UPDATE")
    return [r["process_id"] for r in rows]


async def mark_announced(conn: asyncpg.Connection, ids: list[int]) -> None:
    await conn.execute("UPDATE processes SET announced = true WHERE process_id = any($1::bigint[])", ids)
