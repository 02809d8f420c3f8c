"""Helpers for erp-connector tests: an in-process ERP simulator behind the real client, and a
throwaway PostgreSQL schema with the erp migrations (so tests never touch the live `erp` schema)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from erp_connector.adapters.erp_transport import CallRecord, ErpTransport
from erp_connector.adapters.metrics import ErpMetrics
from erp_connector.adapters.zhibang import Credentials, HttpZhibangClient
from erp_connector.bootstrap import subscriber, units_of_work
from erp_connector.domain.breaker import CircuitBreaker
from erp_connector.domain.fingerprint import fingerprint, matches
from erp_connector.domain.rate_limit import RetryBudget, TokenBucket
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.pull import PullPolicy, PullService
from erp_connector.service_layer.push import PushPolicy, PushWorker
from erp_connector.service_layer.push_outcomes import PushOutcomes
from erp_simulator.main import create_app as create_simulator
from erp_simulator.settings import SimulatorSettings
from tests.support.schemas import scratch_schema

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "services" / "erp-connector" / "migrations"
PASSWORD = "sim-password-for-tests"
CONSUMER = "erp-connector-test"


def sim_settings(**overrides: Any) -> SimulatorSettings:
    """Explicit values, so ERP_SIMULATOR_* variables in the environment change nothing."""
    values: dict[str, Any] = {
        "seed": 42,
        "customers": 200,
        "contracts": 0,
        "user": "rollsync",
        "password": PASSWORD,
        "session_ttl_seconds": 7200,
        "lockout_threshold": 3,
        "page_size": 20,
        "latency_ms_min": 0,
        "latency_ms_max": 0,
        "rate_limit_per_second": None,
        "hang_seconds": 60,
        **overrides,
    }
    return SimulatorSettings(**values)


@dataclass
class Erp:
    """The simulator app, a control client for /_sim/ and the connector's real client on top."""

    sim: httpx.AsyncClient
    client: HttpZhibangClient
    transport: ErpTransport
    calls: list[CallRecord] = field(default_factory=list)
    ended_at: list[float] = field(default_factory=list)  # time.monotonic() when each call ended

    async def faults(self, **knobs: Any) -> dict[str, Any]:
        r = await self.sim.post("/_sim/faults", json=knobs)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def state(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.sim.get("/_sim/state")).json()
        return body

    async def customers(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.sim.get("/_sim/customers")).json()["customers"]
        return rows

    def outcomes(self, operation: str) -> list[str]:
        return [c.outcome for c in self.calls if c.operation == operation]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request as it crossed the wire to the ERP (monotonic times; `answered_at` None if cut off)."""

    path: str
    sent_at: float
    answered_at: float | None
    status: int | None
    retry_after: str | None


class WireRecorder(httpx.AsyncBaseTransport):
    """Between the connector's client and the ERP: when each request was really sent and answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport, exchanges: list[Exchange]) -> None:
        self._inner, self.exchanges = inner, exchanges

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self.exchanges.append(Exchange(request.url.path, sent, None, None, None))
            raise
        retry_after = response.headers.get("retry-after")
        self.exchanges.append(
            Exchange(request.url.path, sent, time.monotonic(), response.status_code, retry_after)
        )
        return response


@asynccontextmanager
async def erp(
    settings: SimulatorSettings | None = None,
    *,
    password: str = PASSWORD,
    rate: float = 10_000,
    burst: int = 10_000,
    call_timeout_s: float = 2.0,
    breaker_threshold: int = 1000,
    breaker_open_s: float = 0.2,
    breaker: CircuitBreaker | None = None,
    wire: list[Exchange] | None = None,
) -> AsyncIterator[Erp]:
    """`breaker` replaces the one built from the two numbers; `wire` collects every exchange."""
    app = create_simulator(settings or sim_settings())
    asgi = httpx.ASGITransport(app=app)
    connector_side = WireRecorder(asgi, wire) if wire is not None else asgi
    async with (
        httpx.AsyncClient(transport=asgi, base_url="http://erp.test") as sim,
        httpx.AsyncClient(transport=connector_side, base_url="http://erp.test") as http,
    ):
        calls: list[CallRecord] = []
        ended_at: list[float] = []

        def observe(record: CallRecord) -> None:
            calls.append(record)
            ended_at.append(time.monotonic())

        transport = ErpTransport(
            http,
            TokenBucket(rate, burst),
            breaker or CircuitBreaker(breaker_threshold, breaker_open_s),
            call_timeout_s=call_timeout_s,
            max_response_bytes=4 * 1024 * 1024,
            observer=observe,
        )
        client = HttpZhibangClient(transport, Credentials("rollsync", SecretStr(password), "TEST01"))
        yield Erp(sim, client, transport, calls, ended_at)


def erp_schema() -> AbstractAsyncContextManager[tuple[str, asyncpg.Pool]]:
    """A fresh schema with the plumbing and every erp-connector migration; dropped afterwards."""
    return scratch_schema(MIGRATIONS, prefix="t_erp", max_size=8)


def metrics() -> ErpMetrics:
    return ErpMetrics(CollectorRegistry())


async def control_for(pool: asyncpg.Pool, client: HttpZhibangClient, m: ErpMetrics) -> ConnectorControl:
    control = ConnectorControl(
        units_of_work(pool).begin,
        client,
        m,
        lambda: fingerprint("rollsync", PASSWORD),
        lambda stored: matches(stored, "rollsync", PASSWORD),
    )
    await control.load()
    return control


def pull_service(
    schema: str, pool: asyncpg.Pool, e: Erp, control: ConnectorControl, m: ErpMetrics, **policy: Any
) -> PullService:
    values: dict[str, Any] = {
        "page_size": 100,
        "page_pause_s": 0.0,
        "max_page_attempts": 8,
        "max_outage_s": 5.0,
        "not_visible_after_scans": 2,
        "retry_base_s": 0.01,
        "retry_cap_s": 0.05,
        **policy,
    }
    uows = units_of_work(pool, schema)
    return PullService(uows.begin, uows.pull_lock, e.client, control, m, PullPolicy(**values))


def push_worker(
    schema: str, pool: asyncpg.Pool, e: Erp, control: ConnectorControl, m: ErpMetrics, **policy: Any
) -> PushWorker:
    values: dict[str, Any] = {
        "batch_size": 50,
        "concurrency": 4,
        "max_attempts": 8,
        "max_read_failures": 24,
        "retry_base_s": 0.01,
        "retry_cap_s": 0.1,
        "max_wait_in_run_s": 5.0,
        "lease_s": 60.0,
        "create_defaults": {"sort1": "101"},
        **policy,
    }
    budget = RetryBudget(ratio=10.0, min_per_s=1000.0)
    uow = units_of_work(pool, schema).begin
    return PushWorker(uow, e.client, control, m, budget, PushPolicy(**values), PushOutcomes(uow, CONSUMER))


def sync_request(
    customer_id: str,
    code: str,
    fields: dict[str, Any],
    *,
    version: int = 1,
    action: str = "create",
    erp_id: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A CustomerSyncRequested envelope as rules publishes it: (value bytes, headers)."""
    from common.events.customers import CustomerSyncRequested
    from common.events.envelope import Envelope
    from common.outbox import row_for
    from common.topics import RULES_CUSTOMER_SYNC_REQUESTED

    payload = CustomerSyncRequested(
        customer_id=customer_id,
        code=code,
        action=action,
        erp_id=erp_id,
        version=version,
        fields=fields,
        rule="high_quality_verified",
        reason="数据质量分 85 ≥ 80",
    )
    envelope = Envelope[CustomerSyncRequested](
        event_type="CustomerSyncRequested", source="rules", correlation_id="test", payload=payload
    )
    row = row_for(RULES_CUSTOMER_SYNC_REQUESTED, customer_id, envelope)
    return row.payload, row.headers


async def enqueue(pool: asyncpg.Pool, *requests: tuple[bytes, dict[str, str]]) -> None:
    """What the inbox consumer does with a batch, minus Kafka: decode to typed events, queue in one transaction."""
    from common.delivery import Delivery
    from common.events.customers import CustomerSyncRequested
    from common.received import envelope_decoder
    from common.topics import RULES_CUSTOMER_SYNC_REQUESTED

    decode = envelope_decoder(CustomerSyncRequested)
    batch = [
        decode(
            Delivery(
                RULES_CUSTOMER_SYNC_REQUESTED, 0, i, None, value, headers, uuid.UUID(headers["event_id"])
            )
        )
        for i, (value, headers) in enumerate(requests)
    ]
    async with pool.acquire() as conn, conn.transaction():
        await subscriber(pool)(conn, batch)


def company(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": f"测试{n:04d}号彩印有限公司",
        "person_name": f"联系人{n}",
        "mobile": f"139{n:08d}",
        **extra,
    }
