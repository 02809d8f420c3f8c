"""A scratch copy of transform's schema for the raw baselines: same tables, same statements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from tests.support.schemas import scratch_schema
from tests.support.stack import ROOT
from transform.adapters import configuration_repository


@asynccontextmanager
async def transform_schema() -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    async with scratch_schema(ROOT / "services" / "transform" / "migrations", prefix="bench") as (
        schema,
        pool,
    ):
        async with pool.acquire() as conn, conn.transaction():
            await configuration_repository.seed_configuration(conn)
        yield schema, pool
