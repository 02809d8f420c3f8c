"""Throwaway schemas with the delivery plumbing (and optionally a service's migrations), dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import asyncpg

from common.migrations import load_migrations, migrate
from tests.support.stack import admin_dsn


@asynccontextmanager
async def scratch_schema(
    migrations: Path | None = None, *, prefix: str = "t", max_size: int = 5
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A fresh schema: the common plumbing, then `migrations` (a service's folder) when given."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        await migrate(admin, schema, load_migrations(migrations or Path("/nonexistent")))
        pool = await asyncpg.create_pool(
            admin_dsn(), min_size=1, max_size=max_size, server_settings={"search_path": schema}
        )
        assert pool is not None
        try:
            yield schema, pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def plumbing_schema() -> AbstractAsyncContextManager[tuple[str, asyncpg.Pool]]:
    """Only the delivery plumbing, for tests of libs/common."""
    return scratch_schema()
