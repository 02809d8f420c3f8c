"""erp-connector as a real process, with real Kafka, PostgreSQL and the ERP simulator (issue 4)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from tests.erp_connector.harness import company
from tests.erp_connector.stack_helpers import (
    Simulator,
    completions,
    metric,
    publish,
    start_connector,
    sync_command,
)
from tests.support.api import bearer, create_client, eventually, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
WRONG = "wrong-password-e2e"


@pytest.fixture(scope="module")
def connector(services: dict[str, ServiceProcess]) -> Iterator[dict[str, ServiceProcess]]:
    """The stack's connector swapped for one with short timeouts; the stack's own comes back after."""
    services["erp-connector"].stop()
    procs = {"current": start_connector()}
    try:
        yield procs
    finally:
        procs["current"].stop()
        services["erp-connector"].start()


@pytest.fixture
async def sim(services: dict[str, ServiceProcess], http: httpx.AsyncClient) -> AsyncIterator[Simulator]:
    simulator = Simulator(http, services["erp-simulator"].url)
    await simulator.quiet()
    yield simulator
    await simulator.quiet()
    await http.post(f"{simulator.url}/_sim/unlock", json={})


@pytest.fixture
async def auth(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, str]:
    client_id, secret = await create_client(admin, ["admin"])
    return bearer(await login(http, services["ingest"].url, client_id, secret))


async def test_pushes_land_exactly_once_with_thirty_percent_of_erp_calls_failing(
    connector: dict[str, ServiceProcess],
    sim: Simulator,
    admin: asyncpg.Connection,
    http: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    run, n = uuid.uuid4().hex[:6].upper(), 30
    ids = {f"e2e-{run}-{i}": f"KH-E{run}{i:03d}" for i in range(n)}
    commands = [
        (cid, *sync_command(cid, code, company(i, name=f"端到端{run}{i:03d}彩印有限公司")))
        for i, (cid, code) in enumerate(ids.items())
    ]
    await publish(commands + commands[:5])  # five redelivered: the inbox absorbs them
    await eventually(
        lambda: admin.fetchval(
            "SELECT count(*) = $2 FROM erp.erp_push_queue WHERE customer_id LIKE $1", f"e2e-{run}-%", n
        ),
        timeout_s=30,
    )
    await sim.faults(
        error_rate=0.15,
        reset_rate=0.04,
        timeout_rate=0.05,
        hang_seconds=1.5,
        lost_reply_rate=0.3,
        rate_limit_per_second=40,
        rate_limit_mode="http429",
    )
    calm = await sim.state()
    r = await http.post(
        f"{connector['current'].url}/sync/erp/trigger", json={"direction": "push"}, headers=auth
    )
    assert r.status_code == 202 and r.json()["started"] == {"push": "started"}

    async def finished() -> bool:
        return bool(
            await admin.fetchval(
                "SELECT bool_and(status IN ('synced', 'dead')) FROM erp.erp_push_queue WHERE customer_id LIKE $1",
                f"e2e-{run}-%",
            )
        )

    await eventually(finished, timeout_s=60)
    state = await sim.state()
    await sim.quiet()
    await asyncio.sleep(1.6)  # saves that hung past our timeout land now; they must not duplicate
    faults = sum(state["faults_injected"].values()) - sum(calm["faults_injected"].values())
    assert faults / (state["requests_total"] - calm["requests_total"]) >= 0.2, state["faults_injected"]

    rows = await admin.fetch(
        "SELECT customer_id, status, attempts, erp_id FROM erp.erp_push_queue WHERE customer_id LIKE $1",
        f"e2e-{run}-%",
    )
    assert Counter(r["status"] for r in rows) == Counter({"synced": n})
    assert max(r["attempts"] for r in rows) <= 8
    assert sum(r["attempts"] for r in rows) <= 1.8 * n
    stored = [c for c in await sim.customers() if c["khid"].startswith(f"KH-E{run}")]
    assert Counter(c["khid"] for c in stored) == Counter(set(ids.values()))  # one record per code
    attempts = {ids[r["customer_id"]]: r["attempts"] for r in rows}
    assert all(1 <= c["save_count"] <= attempts[c["khid"]] for c in stored)

    done = await completions(set(ids))
    by_code = {c["khid"]: c["ord"] for c in stored}
    assert {cid: (p["result"], p["erp_id"]) for cid, p in done.items()} == {
        cid: ("synced", by_code[code]) for cid, code in ids.items()
    }
    status = (await http.get(f"{connector['current'].url}/sync/erp/status", headers=auth)).json()
    assert status["state"] == "running" and status["last_push"]["synced"] >= n


async def test_a_session_expiring_in_the_middle_of_a_pull_does_not_fail_it(
    connector: dict[str, ServiceProcess],
    sim: Simulator,
    admin: asyncpg.Connection,
    http: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    url = connector["current"].url
    await sim.faults(expire_after_pages=1)
    before = await sim.state()
    r = await http.post(f"{url}/sync/erp/trigger", json={"direction": "pull"}, headers=auth)
    assert r.status_code == 202
    last_id = await admin.fetchval(
        "SELECT coalesce(max(id), 0) FROM erp.erp_sync_logs WHERE sync_type = 'pull'"
    )

    async def pulled() -> Any:
        return await admin.fetchrow(
            "SELECT sync_result, detail FROM erp.erp_sync_logs WHERE sync_type = 'pull' AND id > $1", last_id
        )

    log = await eventually(pulled, timeout_s=30)
    after = await sim.state()
    detail = orjson.loads(log["detail"])
    assert log["sync_result"] == "success", detail
    assert detail["seen"] == after["stored_customers"] and detail["pages"] >= 2
    expired = after["faults_injected"].get("session_expired_mid_scan", 0) - before["faults_injected"].get(
        "session_expired_mid_scan", 0
    )
    # every page used up its session: each page after the first needed a new login, and got one
    assert expired >= detail["pages"] - 1 and after["logins"] - before["logins"] >= detail["pages"] - 1
    status = (await http.get(f"{url}/sync/erp/status", headers=auth)).json()
    assert (
        status["last_pull"]["result"] == "success"
        and status["last_pull"]["seen"] == after["stored_customers"]
    )


async def test_a_wrong_password_stops_before_the_lockout_and_says_why(
    connector: dict[str, ServiceProcess],
    sim: Simulator,
    admin: asyncpg.Connection,
    http: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    connector["current"].stop()
    await http.post(f"{sim.url}/_sim/unlock", json={})
    await admin.execute(
        "UPDATE erp.erp_connector_state SET stopped_auth = false, paused = false, reason = NULL"
    )
    connector["current"] = start_connector(ERP_CONNECTOR_ERP__PASSWORD=WRONG)
    url = connector["current"].url
    assert (
        await http.post(f"{url}/sync/erp/trigger", json={"direction": "both"}, headers=auth)
    ).status_code == 202

    async def stopped() -> Any:
        body = (await http.get(f"{url}/sync/erp/status", headers=auth)).json()
        return body if body["state"] == "stopped_auth" else None

    status = await eventually(stopped, timeout_s=20)
    assert status["reason"] == "用户名或密码错误"
    assert status["login_rejected"]["class"] == "AuthError"
    assert (await sim.state())["login_failures"] == {"rollsync": 1}  # threshold is 3: never near the captcha
    assert await metric(http, url, "rollsync_erp_login_failures_total") == 1.0
    assert await metric(http, url, 'rollsync_erp_connector_state{state="stopped_auth"}') == 1.0

    again = await http.post(f"{url}/sync/erp/trigger", json={"direction": "pull"}, headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "connector_stopped_auth"
    connector["current"].stop()  # a restart with the same wrong password stays stopped and tries nothing
    connector["current"] = start_connector(
        ERP_CONNECTOR_ERP__PASSWORD=WRONG, ERP_CONNECTOR_RUN_ON_START="true"
    )
    await asyncio.sleep(1.0)
    status = (await http.get(f"{connector['current'].url}/sync/erp/status", headers=auth)).json()
    assert status["state"] == "stopped_auth" and status["reason"] == "用户名或密码错误"
    assert (await sim.state())["login_failures"] == {"rollsync": 1}
    connector["current"].stop()
    connector["current"] = start_connector()  # the right password: the stop lifts by itself
    status = (await http.get(f"{connector['current'].url}/sync/erp/status", headers=auth)).json()
    assert status["state"] == "running" and status["reason"] is None
