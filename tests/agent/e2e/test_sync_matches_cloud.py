"""Issue 9's proofs on the real stack: import, local changes, deletes, wrong secret. The factory database is
a real PostgreSQL database; the cloud is the tests' service processes behind the tests' nginx edge."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from rollsync_agent.config import load_config
from rollsync_agent.history import import_history
from rollsync_agent.loop import Agent
from rollsync_agent.reconcile import reconcile
from rollsync_agent.rows import row_hash
from rollsync_agent.state import snapshot_fields
from tests.agent.e2e.conftest import Site
from tests.support.agent_cloud import cloud_lines, contracts_of, differences, token, wait_until_equal
from tests.support.agent_factory import (
    AgentProcess,
    create_hetong,
    delete_line,
    edge_requests,
    hetong_table,
    insert_rows,
    read_all,
    set_columns,
    write_config,
)
from tests.support.api import eventually
from tests.support.generate import contract_rows

pytestmark = pytest.mark.e2e


async def _matches(http: httpx.AsyncClient, site: Site, base: str, contracts: list[str]) -> list[str]:
    engine = create_engine(site.db_url)
    local = read_all(engine, hetong_table())
    engine.dispose()
    auth = await token(http, base, site.client_id, site.secret)
    return differences(local, await cloud_lines(http, base, auth, contracts))


async def test_import_5000_then_local_edits_leave_the_cloud_equal(
    site: Site, edge_url: str, http: httpx.AsyncClient
) -> None:
    engine = create_engine(site.db_url)
    rows = contract_rows(5000, seed=11, prefix=site.prefix)
    table = create_hetong(engine, rows)
    config = load_config(site.config)

    result = await asyncio.to_thread(import_history, config, None, False)
    assert (result.total, result.accepted, result.rejected) == (5000, 5000, 0)
    again = await asyncio.to_thread(import_history, config, None, False)
    assert (again.skipped, again.sent) == (5000, 0)  # resumable: what the cloud has is not sent again

    rng = random.Random(5)
    keys = sorted(read_all(engine, table))
    for key in rng.sample(keys, 30):
        set_columns(engine, table, key, 甲方="改名客户有限公司", 基辊加工="返工")
    deleted = rng.sample(keys, 10)
    for key in deleted:
        delete_line(engine, table, key)
    insert_rows(engine, table, contract_rows(20, seed=12, prefix=site.prefix + "N"))
    agent = Agent(config)
    try:
        assert await asyncio.to_thread(agent.cycle), snapshot_fields(config.state_path)
    finally:
        agent.close()
    contracts = contracts_of(keys) + contracts_of(read_all(engine, table))

    async def diffs() -> list[str]:
        return await _matches(http, site, edge_url, sorted(set(contracts)))

    await wait_until_equal(diffs, timeout_s=120)


async def test_a_wrong_secret_is_shown_and_tried_once_per_interval(
    site: Site, edge_url: str, tmp_path: Path
) -> None:
    create_hetong(create_engine(site.db_url), contract_rows(3, seed=1, prefix=site.prefix))
    bad = write_config(
        tmp_path / "bad" / "SyncConfig.json", edge_url, site.client_id, "wrong-secret", site.db_url
    )
    before = edge_requests("POST /auth/system-login")
    agent = AgentProcess(bad).start()
    try:
        state = bad.parent / "agent.state"

        async def refused() -> bool:
            return state.exists() and bool(snapshot_fields(state)["auth_failed"])

        await eventually(refused, timeout_s=30)
        await asyncio.sleep(6)  # five 1.2-second intervals: the number of logins is what is measured
    finally:
        agent.stop()
    assert agent.proc is not None
    assert agent.proc.returncode == 0  # SIGTERM (systemd's stop) ends the loop cleanly
    snap = snapshot_fields(state)
    assert snap["state"] == "disconnected"
    assert "clientSecret" in snap["message"]
    logins = edge_requests("POST /auth/system-login") - before
    assert 4 <= logins <= 8, logins  # one per 1.2 s round over ~7 s, not a storm


async def test_reconciliation_finds_the_tables_equal_then_names_a_drift(site: Site, edge_url: str) -> None:
    """TEAM.md point 5: the agent's digest and the cloud's agree after a sync; a line edited behind the agent's
    back (state says the cloud has it, it does not) is reported as different."""
    engine = create_engine(site.db_url)
    table = create_hetong(engine, contract_rows(40, seed=61, prefix=site.prefix))
    config = load_config(site.config)
    agent = Agent(config)
    try:
        assert await asyncio.to_thread(agent.cycle), snapshot_fields(config.state_path)
        lines = agent._lines
        assert lines is not None
        mine = sorted({k[0] for k in read_all(engine, table)})

        async def settled() -> dict[str, list[str]]:
            answer = await asyncio.to_thread(reconcile, agent.engine, lines, agent.state, agent.client)
            bad = set(answer["missing_in_cloud"]) | set(answer["different"])
            return answer if not bad & set(mine) else {}

        await eventually(settled, timeout_s=60, every_s=1)
        key = sorted(read_all(engine, table))[0]
        set_columns(engine, table, key, 备注="直接改库")
        agent.state.mark_accepted([(key, row_hash(read_all(engine, table)[key]))])  # the agent is fooled
        answer = await asyncio.to_thread(reconcile, agent.engine, lines, agent.state, agent.client)
        assert key[0] in answer["different"]
        assert not set(answer["missing_in_cloud"]) & set(mine)
    finally:
        agent.close()
