"""Field mapping and process routes, read from tables and refreshed without a restart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transform.domain.mapping import FieldMapping
    from transform.domain.routes import ProcessCatalog
    from transform.service_layer.ports import ConfigurationRepository, UnitOfWork, UowFactory


@dataclass(frozen=True, slots=True)
class Configuration:
    mapping: FieldMapping
    catalog: ProcessCatalog


class ConfigurationCache:
    """Reloaded when older than `max_age_s` (tables edited by SQL) and, when a unit of work is given, whenever
    the catalogue's revision moved (a /processes change): the consumers pass theirs after taking the shared
    catalogue lock (service_layer.ordering), so a batch never applies a catalogue older than its transaction."""

    def __init__(self, start: UowFactory, max_age_s: float) -> None:
        self._start, self._max_age = start, max_age_s
        self._value: Configuration | None = None
        self._loaded_at = 0.0
        self._revision = -1

    async def get(self, uow: UnitOfWork | None = None) -> Configuration:
        if (
            uow is not None
            and self._value is not None
            and await uow.configuration.revision() != self._revision
        ):
            self._value = None
        if self._value is None or time.monotonic() - self._loaded_at > self._max_age:
            if uow is not None:
                await self._load(uow.configuration)
            else:
                async with self._start() as own:
                    await self._load(own.configuration)
        assert self._value is not None
        return self._value

    async def _load(self, repo: ConfigurationRepository) -> None:
        revision = await repo.revision()
        mapping, catalog = await repo.load()
        self._value, self._loaded_at, self._revision = (
            Configuration(mapping, catalog),
            time.monotonic(),
            revision,
        )

    def invalidate(self) -> None:
        self._value = None

    async def seed_defaults(self) -> None:
        async with self._start() as uow:
            await uow.configuration.seed_defaults()
            await uow.commit()
