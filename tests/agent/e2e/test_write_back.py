"""A worker's report reaches the factory's process column through the feed, and never comes back as an upload.

Needs the feed's `processes` (TEAM.md contract point 3, built by the transform engineer)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from sqlalchemy import create_engine

from rollsync_agent.cloud import CloudClient
from rollsync_agent.config import load_config
from rollsync_agent.loop import Agent
from tests.agent.e2e.conftest import Site
from tests.support.agent_cloud import token
from tests.support.agent_factory import AgentProcess, create_hetong, hetong_table, read_all
from tests.support.api import eventually
from tests.support.generate import contract_rows

pytestmark = pytest.mark.e2e
STATUS = "暂停"  # never in the generated rows, so only a write-back can put it there


class Counting(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        return super().handle_request(request)


async def _report(http: httpx.AsyncClient, base: str, auth: dict[str, str], key: tuple[str, str]) -> None:
    body = {
        "基辊加工": STATUS,
        "产品ID": key[1],
        "updated_by": "worker_zhang",
        "update_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    r = await http.put(f"{base}/sync/contracts/{key[0]}/progress", json=body, headers=auth)
    assert r.status_code == 200, r.text


async def test_a_workers_report_is_written_back_within_a_round_and_not_echoed(
    site: Site, edge_url: str, http: httpx.AsyncClient
) -> None:
    engine = create_engine(site.db_url)
    create_hetong(engine, contract_rows(5, seed=41, prefix=site.prefix))
    config = load_config(site.config)
    transport = Counting()
    agent = Agent(config, client=CloudClient(config.cloud_api, transport=transport))
    try:
        assert await asyncio.to_thread(agent.cycle)
        key = sorted(read_all(engine, hetong_table()))[0]
        await _report(http, edge_url, await token(http, edge_url, site.client_id, site.secret), key)
        uploads_before = transport.seen.count("POST /sync/contracts/batch")

        async def written() -> bool:
            await asyncio.to_thread(agent.cycle)
            return bool(read_all(engine, hetong_table())[key]["基辊加工"] == STATUS)

        await eventually(written, timeout_s=30, every_s=0.5)
        for _ in range(3):
            assert await asyncio.to_thread(agent.cycle)
    finally:
        agent.close()
    assert transport.seen.count("POST /sync/contracts/batch") == uploads_before  # no echo upload


async def test_sigkill_mid_write_back_ten_times_ends_equal_without_echo(
    site: Site, edge_url: str, http: httpx.AsyncClient, admin: asyncpg.Connection
) -> None:
    engine = create_engine(site.db_url)
    create_hetong(engine, contract_rows(300, seed=42, prefix=site.prefix))
    agent = AgentProcess(site.config).start()
    keys = sorted(read_all(engine, hetong_table()))

    async def uploaded() -> bool:
        n = await admin.fetchval(
            "SELECT count(*) FROM ingest.contract_lines WHERE contract_no LIKE $1", site.prefix + "%"
        )
        return int(n) == len(keys)

    await eventually(uploaded, timeout_s=120, every_s=1)
    auth = await token(http, edge_url, site.client_id, site.secret)
    reported = random.Random(3).sample(keys, 120)
    for key in reported:
        await _report(http, edge_url, auth, key)
    rng = random.Random(4)
    for _ in range(10):
        agent.kill()
        agent.start()
        await asyncio.sleep(rng.uniform(0.5, 2.5))
    agent.kill()
    agent.start()
    try:

        async def all_written() -> bool:
            local = read_all(engine, hetong_table())
            return all(local[k]["基辊加工"] == STATUS for k in reported)

        await eventually(all_written, timeout_s=120, every_s=1)
        await asyncio.sleep(3)  # two more 1.2-second rounds in which an echo would show
    finally:
        agent.stop()
    versions = await admin.fetch(
        "SELECT version, count(*) AS n FROM ingest.contract_lines WHERE contract_no LIKE $1 GROUP BY version",
        site.prefix + "%",
    )
    assert {r["version"]: r["n"] for r in versions} == {1: 300}  # nothing uploaded back, nothing twice
