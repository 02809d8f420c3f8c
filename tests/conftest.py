"""Shared fixtures. Helpers live in tests/support (never imported from here by tests)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from hypothesis import settings

from tests.support.stack import ServiceProcess, admin_dsn

# CI reproduces: a failing example fails the same way on every run (DELIVERY.md §12: derandomize in CI).
# No deadlines: two shared cores make timing noise, and speed is the benchmarks' business.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
async def admin() -> AsyncIterator[asyncpg.Connection]:
    """Superuser connection to the stack's database. No database is a failure, never a skip."""
    try:
        conn = await asyncpg.connect(admin_dsn(), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is not reachable ({exc}); run `scripts/stack.sh infra` (make test does)")
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, ServiceProcess]]:
    """Real service processes on test ports, against the real Kafka and PostgreSQL."""
    names = ("erp-simulator", "ingest", "transform", "transform-progress", "rules", "erp-connector")
    procs = {name: ServiceProcess(name) for name in names}
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client
