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
    def __init__(self, pool: asyncpg.Pool, max_age_s: float) -> None:
        self._pool, self._max_age = pool, max_age_s
        self._value: Configuration | None = None
        self._loaded_at = 0.0

    async def get(self) -> Configuration:
        if self._value is None or time.monotonic() - self._loaded_at > self._max_age:
            async with self._pool.acquire() as conn:
                mapping, catalog = await repo.load_configuration(conn)
            self._value, self._loaded_at = Configuration(mapping, catalog), time.monotonic()
        return self._value

    async def seed_defaults(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await repo.seed_configuration(conn)
