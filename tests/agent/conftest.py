"""The factory database for the agent's tests: PostgreSQL (a throwaway database) and a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agent_factory import pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def factory_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'factory.db'}"
        return
    with pg_database() as url:
        yield url


@pytest.fixture
def pg_factory_url() -> Iterator[str]:
    with pg_database() as url:
        yield url
