"""SQL for the configuration: field mapping, process routes, product-type rules and the catalogue's revision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transform.domain.mapping import DEFAULT_MAPPING, FieldMapping, FieldSpec
from transform.domain.routes import (
    DEFAULT_CATALOG,
    DEFAULT_ROUTES,
    DEFAULT_TYPE_RULES,
    ProcessCatalog,
    TypeRule,
    catalog_from_rows,
)

if TYPE_CHECKING:
    import asyncpg


class PostgresConfiguration:
    """transform.service_layer.ports.ConfigurationRepository on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def revision(self) -> int:
        return await catalog_revision(self._conn)

    async def load(self) -> tuple[FieldMapping, ProcessCatalog]:
        return await load_configuration(self._conn)

    async def seed_defaults(self) -> None:
        await seed_configuration(self._conn)


async def load_configuration(conn: asyncpg.Connection) -> tuple[FieldMapping, ProcessCatalog]:
    specs = tuple(
        FieldSpec(r["source"], r["target"], r["kind"], r["required"])
        for r in await conn.fetch("SELECT * FROM field_mapping ORDER BY source")
    )
    routes = [
        (r["product_type"], r["seq"], r["process"], r["weight"])
        for r in await conn.fetch("SELECT * FROM process_routes ORDER BY product_type, seq")
    ]
    rules = tuple(
        TypeRule(r["pattern"], r["product_type"])
        for r in await conn.fetch("SELECT * FROM product_type_rules ORDER BY priority")
    )
    names = [
        (r["name"], r["process"])
        for r in await conn.fetch(
            "SELECT n.name, p.name AS process FROM process_names n JOIN processes p USING (process_id)"
        )
    ]
    catalog = catalog_from_rows(routes, rules, DEFAULT_CATALOG.default_type, process_names=names)
    return FieldMapping(specs), catalog


async def catalog_revision(conn: asyncpg.Connection) -> int:
    """Bumped in every catalogue or route change's transaction (adapters.catalog_repository)."""
    return int(await conn.fetchval("SELECT revision FROM catalog_revision"))


async def seed_configuration(conn: asyncpg.Connection) -> None:
    """First start: copy the shipped defaults into the tables, which are the source of truth after that."""
    if not await conn.fetchval("SELECT exists(SELECT 1 FROM field_mapping)"):
        await conn.executemany(
            "INSERT INTO field_mapping VALUES ($1, $2, $3, $4)",
            [(s.source, s.target, s.kind, s.required) for s in DEFAULT_MAPPING.specs],
        )
    if not await conn.fetchval("SELECT exists(SELECT 1 FROM process_routes)"):
        await conn.executemany("INSERT INTO process_routes VALUES ($1, $2, $3, $4)", list(DEFAULT_ROUTES))
    if not await conn.fetchval("SELECT exists(SELECT 1 FROM product_type_rules)"):
        await conn.executemany(
            "INSERT INTO product_type_rules VALUES ($1, $2, $3)",
            [
                (i * 10, r.pattern_in_product_name, r.product_type)
                for i, r in enumerate(DEFAULT_TYPE_RULES, 1)
            ],
        )
