"""Shared fixtures. Helpers live in tests/support (never imported from here by tests)."""

from __future__ import annotations

import os
import random
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


# tests/containers needs the docker compose stack that `make test-containers` brings up; only that target runs it.
collect_ignore = [] if os.environ.get("ROLLSYNC_CT_COMPOSE") else ["containers"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `last` run after all others (they leave generated data behind); order otherwise kept."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--seed", type=int, default=None, help="fault scenarios' seed (or env ROLLSYNC_FAULT_SEED)"
    )


@pytest.fixture
def fault_seed(request: pytest.FixtureRequest) -> int:
    """One seed drives a fault scenario's workload and schedule; printed, so a failure shows how to rerun it."""
    given = request.config.getoption("--seed") or os.environ.get("ROLLSYNC_FAULT_SEED")
    seed = int(given) if given else random.SystemRandom().randrange(1, 2**31)
    print(f"fault seed: rerun with --seed {seed} (or ROLLSYNC_FAULT_SEED={seed})")  # noqa: T201
    return seed


@pytest.fixture(scope="session")
async def _admin_connection() -> AsyncIterator[dict[str, asyncpg.Connection]]:
    held: dict[str, asyncpg.Connection] = {}
    yield held
    if "conn" in held and not held["conn"].is_closed():
        await held["conn"].close()


@pytest.fixture
async def admin(_admin_connection: dict[str, asyncpg.Connection]) -> asyncpg.Connection:
    """Superuser connection to the stack's database. No database is a failure, never a skip.

    One connection for the session, opened again when a fault scenario's PostgreSQL crash has closed it.
    """
    conn = _admin_connection.get("conn")
    if conn is None or conn.is_closed():
        try:
            conn = await asyncpg.connect(admin_dsn(), timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.fail(f"PostgreSQL is not reachable ({exc}); run `scripts/stack.sh infra` (make test does)")
        _admin_connection["conn"] = conn
    return conn


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
