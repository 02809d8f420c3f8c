"""Throwaway schemas with the delivery plumbing, for integration tests of libs/common."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from common.migrations import load_migrations, migrate
from tests.support.stack import admin_dsn


@asynccontextmanager
async def plumbing_schema() -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        await migrate(admin, schema, load_migrations(Path("/nonexistent")))
        pool = await asyncpg.create_pool(
            admin_dsn(), min_size=1, max_size=5, server_settings={"search_path": schema}
        )
        assert pool is not None
        try:
            yield schema, pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
