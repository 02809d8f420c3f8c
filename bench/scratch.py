"""A scratch copy of transform's schema for the raw baselines: same tables, same statements.

`Scratch.uow_on(conn)` is transform's unit of work bound to the copy. The service's own is bound to the
`transform` schema, and its outbox COPY names that schema, so a bench using it on a scratch pool would write its
outbox rows into the live service's table (and the live relay would publish them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import asyncpg

from tests.support.schemas import scratch_schema
from tests.support.stack import ROOT
from transform.adapters import configuration_repository
from transform.adapters.unit_of_work import PostgresUnitOfWork
from transform.service_layer.configuration import Configuration, ConfigurationCache


@dataclass(frozen=True)
class Scratch:
    schema: str
    pool: asyncpg.Pool
    uow_class: type[PostgresUnitOfWork]

    def uow_on(self, conn: asyncpg.Connection) -> PostgresUnitOfWork:
        return self.uow_class.joined(conn)

    async def configuration(self) -> Configuration:
        return await ConfigurationCache(partial(self.uow_class.begin, self.pool), 3600).get()


@asynccontextmanager
async def transform_schema() -> AsyncIterator[Scratch]:
    async with scratch_schema(ROOT / "services" / "transform" / "migrations", prefix="bench") as (
        schema,
        pool,
    ):
        async with pool.acquire() as conn, conn.transaction():
            await configuration_repository.seed_configuration(conn)
        yield Scratch(schema, pool, type("ScratchUnitOfWork", (PostgresUnitOfWork,), {"schema": schema}))
