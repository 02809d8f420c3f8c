"""Fixtures for rules' tests: a pool on the rules schema of the stack's PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.stack import admin_dsn


@pytest.fixture(scope="session")
async def rules_pool() -> AsyncIterator[asyncpg.Pool]:
    """The superuser on the `rules` schema. No database is a failure, never a skip."""
    try:
        pool = await asyncpg.create_pool(
            admin_dsn(), min_size=1, max_size=6, server_settings={"search_path": "rules"}, timeout=10
        )
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is not reachable ({exc}); run `scripts/stack.sh infra`")
    assert pool is not None
    yield pool
    await pool.close()


@pytest.fixture
async def tx(rules_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back: nothing a test writes reaches the outbox relay."""
    async with rules_pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        finally:
            await transaction.rollback()
