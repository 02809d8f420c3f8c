"""A scratch copy of transform's schema for the raw baselines: same tables, same statements."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from common.migrations import load_migrations, migrate
from tests.support.stack import ROOT, admin_dsn
from transform.adapters import repository


@asynccontextmanager
async def transform_schema() -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_dsn())
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await migrate(conn, schema, load_migrations(ROOT / "services" / "transform" / "migrations"))
        pool = await asyncpg.create_pool(
            admin_dsn(), min_size=2, max_size=4, server_settings={"search_path": schema}
        )
        assert pool is not None
        async with pool.acquire() as c, c.transaction():
            await repository.seed_configuration(c)
        try:
            yield schema, pool
        finally:
            await pool.close()
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
