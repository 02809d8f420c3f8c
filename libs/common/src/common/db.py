"""asyncpg pool bound to one service schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from common.settings import PostgresSettings


# Joined into a statement that runs on its own (an implicit transaction), this makes that statement's commit not
# wait for the WAL flush: set_config(…, true) lasts until the commit, which reads it. For bookkeeping that a crash
# may lose (leases, sent-marks, rate counters), in one round trip instead of BEGIN, SET LOCAL, statement, COMMIT.
NO_FLUSH_WAIT = "(SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait"


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
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """A released connection goes back as it is (asyncpg still rolls back an open transaction first).

    asyncpg's default reset (unlock every advisory lock, CLOSE ALL, UNLISTEN *, RESET ALL) is one more round trip
    on every release: a progress report crosses five pools on its way to the feed (bench G7, issue 12). None of
    that state lives on our pooled sessions: locks are transaction-scoped, settings SET LOCAL, LISTEN has a
    connection of its own, and the one session lock (erp-connector's pull lock) is unlocked by its holder, which
    closes the session if it cannot."""


async def connect(pg: PostgresSettings, schema: str) -> asyncpg.Connection:
    """A single connection outside the pool (LISTEN needs its own)."""
    return await asyncpg.connect(
        dsn(pg),
        user=pg.user,
        password=pg.password.get_secret_value(),
        timeout=10,
        server_settings={"search_path": schema},
    )
