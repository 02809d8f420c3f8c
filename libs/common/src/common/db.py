"""asyncpg pool bound to one service schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from common.settings import PostgresSettings


def dsn(pg: PostgresSettings) -> str:
    # Host/port/db only: credentials go as keyword arguments so they never appear in a DSN string.
    return f"postgresql://{pg.host}:{pg.port}/{pg.database}"


async def create_pool(pg: PostgresSettings, schema: str) -> asyncpg.Pool:
    """A pool whose connections see only `schema` first; fails fast with a clear error."""
    pool = await asyncpg.create_pool(
        dsn(pg),
        user=pg.user,
        password=pg.password.get_secret_value(),
        min_size=pg.pool_min,
        max_size=pg.pool_max,
        timeout=10,
        command_timeout=60,
        server_settings={"search_path": schema, "application_name": f"rollsync-{schema}"},
    )
    assert pool is not None
    return pool


async def connect(pg: PostgresSettings, schema: str) -> asyncpg.Connection:
    """A single connection outside the pool (LISTEN needs its own)."""
    return await asyncpg.connect(
        dsn(pg),
        user=pg.user,
        password=pg.password.get_secret_value(),
        timeout=10,
        server_settings={"search_path": schema},
    )
