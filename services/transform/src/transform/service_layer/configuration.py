"""Field mapping and process routes, read from tables and refreshed without a restart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transform.adapters import repository as repo

if TYPE_CHECKING:
    import asyncpg

    from transform.domain.mapping import FieldMapping
    from transform.domain.routes import ProcessCatalog


@dataclass(frozen=True, slots=True)
class Configuration:
    mapping: FieldMapping
    catalog: ProcessCatalog


class ConfigurationCache:
    """Reloaded when older than `max_age_s` (tables edited by SQL) and, when a connection is given, whenever
    the catalogue's revision moved (a /processes change): the consumers pass theirs after taking the shared
    catalogue lock (service_layer.ordering), so a batch never applies a catalogue older than its transaction."""

    def __init__(self, pool: asyncpg.Pool, max_age_s: float) -> None:
        self._pool, self._max_age = pool, max_age_s
        self._value: Configuration | None = None
        self._loaded_at = 0.0
        self._revision = -1

    async def get(self, conn: asyncpg.Connection | None = None) -> Configuration:
        if (
            conn is not None
            and self._value is not None
            and await repo.catalog_revision(conn) != self._revision
        ):
            self._value = None
        if self._value is None or time.monotonic() - self._loaded_at > self._max_age:
            if conn is not None:
                await self._load(conn)
            else:
                async with self._pool.acquire() as own:
                    await self._load(own)
        assert self._value is not None
        return self._value

    async def _load(self, conn: asyncpg.Connection) -> None:
        revision = await repo.catalog_revision(conn)
        mapping, catalog = await repo.load_configuration(conn)
        self._value, self._loaded_at, self._revision = (
            Configuration(mapping, catalog),
            time.monotonic(),
            revision,
        )

    def invalidate(self) -> None:
        self._value = None

    async def seed_defaults(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.seed_configuration(conn)
