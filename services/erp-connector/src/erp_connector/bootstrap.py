"""Builds erp-connector from settings and a pool: units of work, the ERP client and its transport,
the handlers with their collaborators bound, and the scheduler. main.create_app only wires them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from erp_connector.adapters.api_log import ApiLogWriter
from erp_connector.adapters.erp_transport import CallRecord, ErpTransport
from erp_connector.adapters.hashes import PostgresPullLock
from erp_connector.adapters.job_runs import PostgresJobRuns
from erp_connector.adapters.metrics import ErpMetrics
from erp_connector.adapters.schema import SCHEMA
from erp_connector.adapters.unit_of_work import PostgresUnitOfWork, unit_of_work_class
from erp_connector.adapters.zhibang import Credentials, HttpZhibangClient
from erp_connector.domain.breaker import CircuitBreaker
from erp_connector.domain.classify import DEFAULT_VOCABULARY, Vocabulary
from erp_connector.domain.fingerprint import fingerprint, matches
from erp_connector.domain.rate_limit import RetryBudget, TokenBucket
from erp_connector.entrypoints.kafka import on_customer_sync_requested
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.pull import PullPolicy, PullService
from erp_connector.service_layer.push import PushPolicy, PushWorker
from erp_connector.service_layer.push_outcomes import PushOutcomes
from erp_connector.service_layer.scheduler import Job, SyncScheduler
from erp_connector.service_layer.status import sync_status

if TYPE_CHECKING:
    import asyncpg
    from prometheus_client import CollectorRegistry

    from common.consumer import ApplyBatch
    from erp_connector.config import ErpSettings, Settings
    from erp_connector.service_layer.ports import UnitOfWorkFactory


def http_client(erp: ErpSettings) -> httpx.AsyncClient:
    """One client for the process: explicit timeouts and pool limits, no redirects (DELIVERY.md §10)."""
    return httpx.AsyncClient(
        base_url=erp.base_url,
        timeout=httpx.Timeout(
            connect=erp.connect_timeout_s,
            read=erp.read_timeout_s,
            write=erp.write_timeout_s,
            pool=erp.pool_timeout_s,
        ),
        limits=httpx.Limits(
            max_connections=erp.max_connections, max_keepalive_connections=erp.max_connections
        ),
        follow_redirects=False,
        headers={"content-type": "application/json; charset=utf-8"},
    )


def vocabulary(erp: ErpSettings) -> Vocabulary:
    d = DEFAULT_VOCABULARY
    return Vocabulary(
        session_expired=(*d.session_expired, *erp.session_expired_texts),
        captcha=(*d.captcha, *erp.captcha_texts),
        throttled=(*d.throttled, *erp.throttled_texts),
        not_found=d.not_found,
    )


def pull_policy(settings: Settings) -> PullPolicy:
    p = settings.pull
    return PullPolicy(
        p.page_size,
        p.page_pause_s,
        p.max_page_attempts,
        p.max_outage_s,
        p.not_visible_after_scans,
        settings.push.retry_base_s,
        settings.push.retry_cap_s,
    )


def push_policy(settings: Settings) -> PushPolicy:
    p = settings.push
    return PushPolicy(
        p.batch_size,
        p.concurrency,
        p.max_attempts,
        p.max_read_failures,
        p.retry_base_s,
        p.retry_cap_s,
        p.max_wait_in_run_s,
        p.lease_s,
        dict(p.create_defaults),
    )


@dataclass(frozen=True, slots=True)
class UnitsOfWork:
    """`begin()`: a transaction of its own; `on(conn)`: joined to the inbox consumer's transaction."""

    begin: UnitOfWorkFactory
    on: Callable[[asyncpg.Connection], PostgresUnitOfWork]
    pull_lock: PostgresPullLock


def units_of_work(pool: asyncpg.Pool, schema: str = SCHEMA) -> UnitsOfWork:
    uow = unit_of_work_class(schema)
    return UnitsOfWork(lambda: uow.begin(pool), uow.joined, PostgresPullLock(pool))


def subscriber(pool: asyncpg.Pool, schema: str = SCHEMA) -> ApplyBatch:
    """The rules.customer-sync-requested.v1 subscriber, for the runtime, tests and benchmarks."""
    return on_customer_sync_requested(units_of_work(pool, schema).on)


@dataclass(frozen=True, slots=True)
class Instruments:
    """Made in create_app (metrics register there, not in the lifespan): they outlive one ERP client."""

    metrics: ErpMetrics
    limiter: TokenBucket
    breaker: CircuitBreaker

    @classmethod
    def build(cls, erp: ErpSettings, registry: CollectorRegistry) -> Instruments:
        metrics = ErpMetrics(registry)
        limiter = TokenBucket(erp.rate_limit_per_second, erp.rate_limit_burst)
        breaker = CircuitBreaker(erp.breaker_failure_threshold, erp.breaker_open_seconds)
        metrics.watch(lambda: limiter.remaining, lambda: float(breaker.state))
        return cls(metrics, limiter, breaker)


def erp_client(
    erp: ErpSettings, http: httpx.AsyncClient, inst: Instruments, api_log: ApiLogWriter
) -> HttpZhibangClient:
    def observe(record: CallRecord) -> None:
        inst.metrics.observe_call(record)
        api_log.add(record)

    transport = ErpTransport(
        http,
        inst.limiter,
        inst.breaker,
        call_timeout_s=erp.call_timeout_s,
        max_response_bytes=erp.max_response_bytes,
        observer=observe,
        vocabulary=vocabulary(erp),
    )
    return HttpZhibangClient(transport, Credentials(erp.username, erp.password, erp.serialnum))


def connector_control(
    uow: UnitOfWorkFactory, client: HttpZhibangClient, metrics: ErpMetrics, erp: ErpSettings
) -> ConnectorControl:
    password = erp.password.get_secret_value()
    return ConnectorControl(
        uow,
        client,
        metrics,
        lambda: fingerprint(erp.username, password),
        lambda stored: matches(stored, erp.username, password),
    )


@dataclass
class Connector:
    """Everything the lifespan starts, serves and stops."""

    client: HttpZhibangClient
    control: ConnectorControl
    push: PushWorker
    scheduler: SyncScheduler
    api_log: ApiLogWriter
    subscriber: ApplyBatch
    status: Callable[[], Awaitable[dict[str, Any]]]
    refresh_backlog: Callable[[], Awaitable[None]]

    def start(self) -> None:
        """After the runtime started: background API-log writes, then the schedule."""
        self.api_log.start()
        self.scheduler.start()


def _scheduler(
    settings: Settings, pull: PullService, push: PushWorker, control: ConnectorControl, pool: asyncpg.Pool
) -> SyncScheduler:
    on_start = settings.run_on_start
    jobs = [
        Job("pull", settings.pull.interval_s, pull.run, on_start, enabled=settings.pull.enabled),
        Job("push", settings.push.interval_s, push.run, on_start, enabled=settings.push.enabled),
    ]
    return SyncScheduler(jobs, lambda: control.running, PostgresJobRuns(pool))


def _handlers(
    settings: Settings,
    uows: UnitsOfWork,
    client: HttpZhibangClient,
    control: ConnectorControl,
    inst: Instruments,
) -> tuple[PullService, PushWorker]:
    pull = PullService(uows.begin, uows.pull_lock, client, control, inst.metrics, pull_policy(settings))
    budget = RetryBudget(settings.push.retry_budget_ratio, settings.push.retry_budget_min_per_s)
    outcomes = PushOutcomes(uows.begin, settings.consumer_group)
    push = PushWorker(uows.begin, client, control, inst.metrics, budget, push_policy(settings), outcomes)
    return pull, push


@asynccontextmanager
async def connector(
    settings: Settings,
    pool: asyncpg.Pool,
    inst: Instruments,
    erp_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Connector]:
    """Loads the run state, starts the API-log writer and the scheduler; stops them in reverse.
    `erp_transport` lets tests put an in-process ERP simulator behind the real client."""
    erp = settings.erp
    if erp_transport is None:
        http = http_client(erp)
    else:
        http = httpx.AsyncClient(base_url=erp.base_url, transport=erp_transport, follow_redirects=False)
    api_log = ApiLogWriter(pool)
    client = erp_client(erp, http, inst, api_log)
    uows = units_of_work(pool)
    control = connector_control(uows.begin, client, inst.metrics, erp)
    scheduler: SyncScheduler | None = None
    try:
        await control.load()
        pull, push = _handlers(settings, uows, client, control, inst)
        scheduler = _scheduler(settings, pull, push, control, pool)

        async def status() -> dict[str, Any]:
            assert scheduler is not None
            return await sync_status(uows.begin, control, client, scheduler, inst.limiter.remaining)

        async def refresh_backlog() -> None:
            async with uows.begin() as uow:
                b = await uow.pushes.backlog()
            inst.metrics.push_backlog.set(b["queued"] + b["in_flight"])

        subscriber = on_customer_sync_requested(uows.on)
        yield Connector(client, control, push, scheduler, api_log, subscriber, status, refresh_backlog)
    finally:
        if scheduler is not None:
            await scheduler.stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):  # best effort: never hold up a shutdown
                await client.logout()
        await api_log.stop()
        await http.aclose()
