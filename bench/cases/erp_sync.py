"""G8, the ERP sync benchmark: push N customers against the simulator's rate limit, pull M customers.

Push: the simulator enforces `BENCH_ERP_RATE` calls/s per session (429 + Retry-After above it) and the
connector's client-side token bucket is set to the same rate; the figure is achieved calls/s ÷ limit
(target ≥ 0.95 with no 429). Pull: `BENCH_ERP_PULL` customers in the simulator, one full scan into an
empty hash table (every customer new), then a second scan (every customer unchanged).

The connector's real code runs here (HttpZhibangClient over HTTP to a simulator process, PushWorker,
PullService, the API-log writer) against a throwaway schema, so the live `erp` schema is never touched.

    python -m bench.cases.erp_sync        # prints one JSON line
    BENCH_ERP_PUSHES=5000 BENCH_ERP_RATE=50 BENCH_ERP_PULL=20000 (defaults)
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import orjson
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from common.delivery import Delivery
from common.migrations import load_migrations, migrate
from erp_connector.adapters.api_log import ApiLogWriter
from erp_connector.adapters.erp_transport import CallRecord, ErpTransport
from erp_connector.adapters.metrics import ErpMetrics
from erp_connector.adapters.zhibang import Credentials, HttpZhibangClient
from erp_connector.bootstrap import http_client, subscriber, units_of_work
from erp_connector.config import ErpSettings
from erp_connector.domain.breaker import CircuitBreaker
from erp_connector.domain.fingerprint import fingerprint, matches
from erp_connector.domain.rate_limit import RetryBudget, TokenBucket
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.pull import PullPolicy, PullService
from erp_connector.service_layer.push import PushPolicy, PushWorker
from erp_connector.service_layer.push_outcomes import PushOutcomes
from tests.erp_connector.harness import company, sync_request
from tests.support.stack import PYTHON, ROOT, admin_dsn, private_log

PUSHES = int(os.environ.get("BENCH_ERP_PUSHES", "5000"))
RATE = float(os.environ.get("BENCH_ERP_RATE", "50"))
PULL = int(os.environ.get("BENCH_ERP_PULL", "20000"))
PASSWORD = f"bench-{uuid.uuid4().hex}"
TARGET, FLOOR = 0.95, 0.90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_simulator() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "ERP_SIMULATOR_PORT": str(port), "ERP_SIMULATOR_PASSWORD": PASSWORD}
    log = private_log("bench-erp-simulator.log")
    proc = subprocess.Popen([PYTHON, "-m", "erp_simulator"], env=env, stdout=log, stderr=log, cwd=ROOT)
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


@asynccontextmanager
async def simulator() -> AsyncIterator[str]:
    """A real simulator process (uvicorn over loopback), default latency 0-50 ms per call."""
    proc, url = _start_simulator()
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(f"{url}/_sim/state")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        yield url
    finally:
        _stop(proc)


@asynccontextmanager
async def schema() -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    name = f"bench_erp_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f'CREATE SCHEMA "{name}"')
        await migrate(admin, name, load_migrations(ROOT / "services" / "erp-connector" / "migrations"))
        pool = await asyncpg.create_pool(
            admin_dsn(), min_size=2, max_size=10, server_settings={"search_path": name}
        )
        assert pool is not None
        try:
            yield name, pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP SCHEMA "{name}" CASCADE')
        await admin.close()


class Connector:
    """The connector's ERP side as create_app wires it, minus Kafka and HTTP."""

    def __init__(self, url: str, pool: asyncpg.Pool, schema_name: str) -> None:
        self.erp = ErpSettings(
            base_url=url,
            username="rollsync",
            password=SecretStr(PASSWORD),
            rate_limit_per_second=RATE,
            rate_limit_burst=1,
        )
        self.http = http_client(self.erp)
        self.calls: list[tuple[float, CallRecord]] = []
        self.api_log = ApiLogWriter(pool)
        self.metrics = ErpMetrics(CollectorRegistry())
        self.limiter = TokenBucket(self.erp.rate_limit_per_second, self.erp.rate_limit_burst)
        transport = ErpTransport(
            self.http,
            self.limiter,
            CircuitBreaker(self.erp.breaker_failure_threshold, self.erp.breaker_open_seconds),
            call_timeout_s=self.erp.call_timeout_s,
            max_response_bytes=self.erp.max_response_bytes,
            observer=self._observe,
        )
        self.client = HttpZhibangClient(transport, Credentials("rollsync", SecretStr(PASSWORD), "BENCH01"))
        self.pool, self.schema = pool, schema_name

    def _observe(self, record: CallRecord) -> None:
        self.calls.append((time.monotonic(), record))
        self.metrics.observe_call(record)
        self.api_log.add(record)

    async def control(self) -> ConnectorControl:
        control = ConnectorControl(
            units_of_work(self.pool, self.schema).begin,
            self.client,
            self.metrics,
            lambda: fingerprint("rollsync", PASSWORD),
            lambda fp: matches(fp, "rollsync", PASSWORD),
        )
        await control.load()
        return control

    async def close(self) -> None:
        await self.api_log.stop()
        await self.http.aclose()


async def _pull(url: str, sim: httpx.AsyncClient) -> dict[str, Any]:
    await sim.post(f"{url}/_sim/reset", json={})
    stored = int((await sim.get(f"{url}/_sim/state")).json()["stored_customers"])
    if stored < PULL:
        await sim.post(f"{url}/_sim/customers", json={"count": PULL - stored})
    async with schema() as (name, pool):
        c = Connector(url, pool, name)
        c.api_log.start()
        try:
            policy = PullPolicy(
                page_size=500,
                page_pause_s=0.05,
                max_page_attempts=8,
                max_outage_s=60,
                not_visible_after_scans=2,
            )
            uows = units_of_work(pool, name)
            pull = PullService(uows.begin, uows.pull_lock, c.client, await c.control(), c.metrics, policy)
            started = time.perf_counter()
            first = await pull.run()
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            second = await pull.run()
            second_s = time.perf_counter() - started
            events = await pool.fetchval("SELECT count(*) FROM outbox")
        finally:
            await c.close()
    return {
        "customers": first.seen,
        "pages": first.pages,
        "page_size": 500,
        "first_scan": {
            "seconds": round(first_s, 2),
            "customers_per_s": round(first.seen / first_s),
            "new": first.new,
        },
        "second_scan": {
            "seconds": round(second_s, 2),
            "customers_per_s": round(second.seen / second_s),
            "unchanged": second.unchanged,
        },
        "events_emitted": events,
        "result": [first.result, second.result],
    }


async def _push(url: str, sim: httpx.AsyncClient) -> dict[str, Any]:
    await sim.post(f"{url}/_sim/reset", json={})
    await sim.post(f"{url}/_sim/faults", json={"rate_limit_per_second": RATE, "rate_limit_mode": "http429"})
    async with schema() as (name, pool):
        c = Connector(url, pool, name)
        c.api_log.start()
        try:
            requests = [sync_request(f"bench-{i}", f"KH-B{i:06d}", company(i)) for i in range(PUSHES)]
            deliveries = [
                Delivery("rules.customer-sync-requested.v1", 0, i, None, v, h, uuid.UUID(h["event_id"]))
                for i, (v, h) in enumerate(requests)
            ]
            async with pool.acquire() as conn, conn.transaction():
                await subscriber(pool, name)(conn, deliveries)
            policy = PushPolicy(
                batch_size=50,
                concurrency=4,
                max_attempts=8,
                max_read_failures=24,
                retry_base_s=1.0,
                retry_cap_s=60.0,
                max_wait_in_run_s=120.0,
                lease_s=300.0,
                create_defaults={"sort1": "101"},
            )
            uow = units_of_work(pool, name).begin
            worker = PushWorker(
                uow,
                c.client,
                await c.control(),
                c.metrics,
                RetryBudget(0.5, 1.0),
                policy,
                PushOutcomes(uow, "erp-connector-bench"),
            )
            await c.client.login()
            c.calls.clear()  # the window: first call after login -> last call
            report = await worker.run()
            statuses = dict(
                Counter(r["status"] for r in await pool.fetch("SELECT status FROM erp_push_queue"))
            )
        finally:
            await c.close()
    state = (await sim.get(f"{url}/_sim/state")).json()
    times = [t for t, _ in c.calls]
    window = times[-1] - times[0]
    calls = len(c.calls)
    achieved = (calls - 1) / window if window > 0 else 0.0
    ratio = achieved / RATE
    throttled = state["faults_injected"].get("rate_limited", 0)
    verdict = (
        "ok" if ratio >= TARGET and throttled == 0 else "below target" if ratio >= FLOOR else "BELOW FLOOR"
    )
    return {
        "pushes": PUSHES,
        "limit_per_s": RATE,
        "erp_calls": calls,
        "calls_per_push": round(calls / PUSHES, 2),
        "seconds": round(window, 1),
        "achieved_calls_per_s": round(achieved, 2),
        "ratio_achieved_to_limit": round(ratio, 4),
        "http_429": throttled,
        "target": TARGET,
        "floor": FLOOR,
        "verdict": verdict,
        "pushes_per_s": round(report.synced / window, 2) if window else 0,
        "synced": report.synced,
        "dead": report.dead,
        "queue": statuses,
        "outcomes": dict(Counter(r.outcome for _, r in c.calls)),
        "simulator_customers": state["stored_customers"],
    }


async def run() -> dict[str, Any]:
    async with simulator() as url, httpx.AsyncClient(timeout=120) as sim:
        pull = await _pull(url, sim)
        push = await _push(url, sim)
    return {"case": "erp_sync", "G8_push": push, "pull": pull}


def main() -> None:
    result = asyncio.run(run())
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
