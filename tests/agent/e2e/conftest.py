"""The real cloud for the agent: the tests' service processes behind the tests' own nginx edge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.support.agent_factory import EDGE_PORT, edge, write_config
from tests.support.api import create_client
from tests.support.stack import ServiceProcess


@pytest.fixture(scope="session")
def edge_url(services: dict[str, ServiceProcess]) -> Iterator[str]:
    edge("start")
    try:
        yield f"http://127.0.0.1:{EDGE_PORT}"
    finally:
        edge("stop")


@dataclass
class Site:
    """One factory: its database, its agent configuration, its cloud client."""

    config: Path
    db_url: str
    client_id: str
    secret: str
    prefix: str  # unique contract-number prefix: the cloud's database outlives a test


@pytest.fixture
async def site(admin: asyncpg.Connection, edge_url: str, pg_factory_url: str, tmp_path: Path) -> Site:
    client_id, secret = await create_client(admin)
    config = write_config(tmp_path / "SyncConfig.json", edge_url, client_id, secret, pg_factory_url)
    return Site(config, pg_factory_url, client_id, secret, f"A{uuid.uuid4().hex[:5].upper()}")
