"""The agent under faults, on the real stack: SIGKILL mid-upload, the cloud down (503, then unreachable)."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import httpx
import pytest
from sqlalchemy import create_engine

from tests.agent.e2e.conftest import Site
from tests.support.agent_cloud import cloud_lines, contracts_of, differences, token, wait_until_equal
from tests.support.agent_factory import AgentProcess, create_hetong, edge, hetong_table, insert_rows, read_all
from tests.support.api import eventually
from tests.support.generate import contract_rows
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
# Enough lines (80 batches of 50) that ten kills, each after at least one batch landed, all fall mid-upload
# even when a loaded machine lets several batches through between a landing and the kill.
LINES = 4000


async def _cloud_equals_local(http: httpx.AsyncClient, site: Site, base: str) -> list[str]:
    engine = create_engine(site.db_url)
    local = read_all(engine, hetong_table())
    engine.dispose()
    auth = await token(http, base, site.client_id, site.secret)
    return differences(local, await cloud_lines(http, base, auth, contracts_of(local)))


async def _versions(admin: asyncpg.Connection, prefix: str) -> dict[int, int]:
    rows = await admin.fetch(
        "SELECT version, count(*) AS n FROM ingest.contract_lines WHERE contract_no LIKE $1 GROUP BY version",
        prefix + "%",
    )
    return {r["version"]: r["n"] for r in rows}


async def test_sigkill_mid_upload_ten_times_applies_each_line_once(
    site: Site, edge_url: str, http: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    engine = create_engine(site.db_url)
    create_hetong(engine, contract_rows(LINES, seed=21, prefix=site.prefix))
    rng = random.Random(9)
    agent = AgentProcess(site.config)
    progress = []
    for _ in range(10):
        before = sum((await _versions(admin, site.prefix)).values())
        agent.start()

        async def moved(before: int = before) -> bool:
            return sum((await _versions(admin, site.prefix)).values()) > before

        await eventually(moved, timeout_s=60, every_s=0.05)  # a batch landed: the upload is under way
        await asyncio.sleep(rng.uniform(0, 0.1))  # the moment of the kill within the upload varies
        agent.kill()
        progress.append(sum((await _versions(admin, site.prefix)).values()))
    agent.start()
    try:
        await wait_until_equal(lambda: _cloud_equals_local(http, site, edge_url), timeout_s=180)
    finally:
        agent.stop()
    assert await _versions(admin, site.prefix) == {1: LINES}  # every line applied exactly once
    assert progress[-1] < LINES  # every kill landed before the upload was complete


async def test_the_cloud_down_for_60_s_then_back_is_caught_up_unaided(
    site: Site, edge_url: str, http: httpx.AsyncClient, services: dict[str, ServiceProcess]
) -> None:
    engine = create_engine(site.db_url)
    table = create_hetong(engine, contract_rows(40, seed=31, prefix=site.prefix))
    agent = AgentProcess(site.config).start()
    try:
        await wait_until_equal(lambda: _cloud_equals_local(http, site, edge_url), timeout_s=60, every_s=1)
        services["ingest"].stop()  # the edge answers 503 for 30 s
        insert_rows(engine, table, contract_rows(10, seed=32, prefix=site.prefix + "X"))
        await asyncio.sleep(30)
        edge("stop")  # then nothing answers at all for 30 s
        services["ingest"].start()
        insert_rows(engine, table, contract_rows(10, seed=33, prefix=site.prefix + "Y"))
        await asyncio.sleep(30)
        edge("start")
        await wait_until_equal(lambda: _cloud_equals_local(http, site, edge_url), timeout_s=120)
    finally:
        agent.stop()
        edge("start")
        if services["ingest"].proc is None or services["ingest"].proc.poll() is not None:
            services["ingest"].start()
    log = (site.config.parent / "logs" / "sync.log").read_text(encoding="utf-8")
    assert "503" in log or "unavailable" in log.lower()  # it did see the outage
    assert "unreachable" in log
