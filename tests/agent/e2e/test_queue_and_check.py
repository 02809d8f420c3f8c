"""`queue` mode against the real cloud, and `rollsync-agent check`'s one line per problem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, select

from rollsync_agent.check import check_all
from rollsync_agent.config import load_config
from rollsync_agent.factory_db import reflect
from rollsync_agent.installsql import install_sql
from rollsync_agent.loop import Agent
from tests.agent.e2e.conftest import Site
from tests.support.agent_cloud import cloud_lines, differences, token
from tests.support.agent_factory import create_hetong, insert_rows, read_all, write_config
from tests.support.generate import contract_rows

pytestmark = pytest.mark.e2e


async def test_a_trigger_filled_queue_drains_and_refused_lines_stay_visible(
    site: Site, edge_url: str, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    engine = create_engine(site.db_url)
    table = create_hetong(engine)
    with psycopg.connect(site.db_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(install_sql("postgresql")[0])
    rows = contract_rows(30, seed=51, prefix=site.prefix)
    bad = {**rows[0], "产品ID": "P/1"}  # '/' is refused by the cloud (invalid_key)
    insert_rows(engine, table, [*rows, bad])
    cfg = write_config(
        tmp_path / "q" / "SyncConfig.json",
        edge_url,
        site.client_id,
        site.secret,
        site.db_url,
        captureMode="queue",
    )
    agent = Agent(load_config(cfg))
    try:
        for _ in range(5):  # retryCount 3: the refused line is tried 3 times, then left failed
            await asyncio.to_thread(agent.cycle)
    finally:
        agent.close()
    queue = reflect(engine, "sync_queue")
    with engine.connect() as conn:
        entries = conn.execute(select(queue)).mappings().all()
    failed = [e for e in entries if e["sync_status"] == "failed"]
    assert [(e["product_id"], e["attempts"]) for e in failed] == [("P/1", 3)]
    assert "invalid_key" in failed[0]["error_message"]
    assert sum(e["sync_status"] == "synced" for e in entries) == 30
    local = {k: v for k, v in read_all(engine, reflect(engine, "hetong")).items() if k[1] != "P/1"}
    assert {v["sync_status"] for v in local.values()} == {"synced"}
    auth = await token(http, edge_url, site.client_id, site.secret)
    assert differences(local, await cloud_lines(http, edge_url, auth, sorted({k[0] for k in local}))) == []


async def test_check_names_each_problem_in_one_line(site: Site, edge_url: str, tmp_path: Path) -> None:
    create_hetong(create_engine(site.db_url))
    ok = load_config(site.config)
    assert await asyncio.to_thread(check_all, ok) == []
    wrong = write_config(tmp_path / "w" / "SyncConfig.json", edge_url, site.client_id, "nope", site.db_url)
    [line] = await asyncio.to_thread(check_all, load_config(wrong))
    assert "clientSecret" in line
    down = write_config(
        tmp_path / "d" / "SyncConfig.json", "http://127.0.0.1:9", site.client_id, site.secret, site.db_url
    )
    [line] = await asyncio.to_thread(check_all, load_config(down))
    assert "cannot reach the cloud" in line
    no_db = site.db_url.rsplit("/", 1)[0] + "/no_such_factory_db"
    missing = write_config(tmp_path / "m" / "SyncConfig.json", edge_url, site.client_id, site.secret, no_db)
    [line] = await asyncio.to_thread(check_all, load_config(missing))
    assert line.startswith("database: cannot read it") and "no_such_factory_db" in line
    queue_cfg = write_config(
        tmp_path / "q" / "SyncConfig.json",
        edge_url,
        site.client_id,
        site.secret,
        site.db_url,
        captureMode="queue",
    )
    [line] = await asyncio.to_thread(check_all, load_config(queue_cfg))
    assert line == "database: table sync_queue does not exist (or this login cannot see it)"
