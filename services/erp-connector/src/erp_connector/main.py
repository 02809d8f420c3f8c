"""Composition root: create_app(settings) wires the ERP client, workers, scheduler, subscriber, routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from common import topics
from common.bearer import remote_verifier
from common.service import Metrics, ServiceRuntime, base_app
from erp_connector.adapters import repository as repo
from erp_connector.adapters.api_log import ApiLogWriter
from erp_connector.adapters.erp_transport import CallRecord, ErpTransport
from erp_connector.adapters.job_runs import PostgresJobRuns
from erp_connector.adapters.metrics import ErpMetrics
from erp_connector.adapters.retention import retention_policies
from erp_connector.adapters.zhibang import Credentials, HttpZhibangClient
from erp_connector.config import ErpSettings, Settings
from erp_connector.domain.breaker import CircuitBreaker
from erp_connector.domain.classify import DEFAULT_VOCABULARY, Vocabulary
from erp_connector.domain.fingerprint import fingerprint, matches
from erp_connector.domain.rate_limit import RetryBudget, TokenBucket
from erp_connector.entrypoints.context import Context
from erp_connector.entrypoints.http import router
from erp_connector.entrypoints.kafka import on_customer_sync_requested
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.pull import PullPolicy, PullService
from erp_connector.service_layer.push import PushPolicy, PushWorker
from erp_connector.service_layer.push_outcomes import PushOutcomes
from erp_connector.service_layer.scheduler import Job, SyncScheduler

SCHEMA = "erp"
TOPICS = [
    topics.RULES_CUSTOMER_SYNC_REQUESTED,
    topics.ERP_CUSTOMER_PULLED,
    topics.ERP_CUSTOMER_PUSH_COMPLETED,
]


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


def create_app(
    settings: Settings | None = None, erp_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`erp_transport` lets tests put an in-process ERP simulator behind the real client."""
    settings = settings or Settings()
    metrics = Metrics("erp-connector")
    erp_metrics = ErpMetrics(metrics.registry)
    erp = settings.erp
    limiter = TokenBucket(erp.rate_limit_per_second, erp.rate_limit_burst)
    breaker = CircuitBreaker(erp.breaker_failure_threshold, erp.breaker_open_seconds)
    erp_metrics.watch(lambda: limiter.remaining, lambda: float(breaker.state))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("erp-connector", SCHEMA, settings, metrics)
        await rt.open(TOPICS)
        if erp_transport is None:
            http = http_client(erp)
        else:
            http = httpx.AsyncClient(base_url=erp.base_url, transport=erp_transport, follow_redirects=False)
        api_log = ApiLogWriter(rt.pool)

        def observe(record: CallRecord) -> None:
            erp_metrics.observe_call(record)
            api_log.add(record)

        transport = ErpTransport(
            http,
            limiter,
            breaker,
            call_timeout_s=erp.call_timeout_s,
            max_response_bytes=erp.max_response_bytes,
            observer=observe,
            vocabulary=vocabulary(erp),
        )
        client = HttpZhibangClient(transport, Credentials(erp.username, erp.password, erp.serialnum))
        password = erp.password.get_secret_value()
        control = ConnectorControl(
            rt.pool,
            client,
            erp_metrics,
            lambda: fingerprint(erp.username, password),
            lambda stored: matches(stored, erp.username, password),
        )
        scheduler: SyncScheduler | None = None
        tokens = remote_verifier(settings, metrics)
        try:
            await control.load()
            pull = PullService(rt.pool, client, control, erp_metrics, pull_policy(settings))
            budget = RetryBudget(settings.push.retry_budget_ratio, settings.push.retry_budget_min_per_s)
            outcomes = PushOutcomes(rt.pool, settings.consumer_group)
            push = PushWorker(rt.pool, client, control, erp_metrics, budget, push_policy(settings), outcomes)
            scheduler = SyncScheduler(
                [
                    Job(
                        "pull",
                        settings.pull.interval_s,
                        pull.run,
                        settings.run_on_start,
                        enabled=settings.pull.enabled,
                    ),
                    Job(
                        "push",
                        settings.push.interval_s,
                        push.run,
                        settings.run_on_start,
                        enabled=settings.push.enabled,
                    ),
                ],
                lambda: control.running,
                PostgresJobRuns(rt.pool),
            )
            rt.subscribe(
                topics.RULES_CUSTOMER_SYNC_REQUESTED, settings.consumer_group, on_customer_sync_requested
            )

            async def refresh_backlog() -> None:
                b = await repo.backlog(rt.pool)
                erp_metrics.push_backlog.set(b["queued"] + b["in_flight"])

            metrics.on_scrape(refresh_backlog)
            tokens.start()
            app.state.ctx = Context(rt.pool, tokens, control, client, scheduler, push, limiter)
            rt.retain(retention_policies(settings.retention))
            await rt.start(app)
            api_log.start()
            scheduler.start()
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):  # best effort: never hold up a shutdown
                    await client.logout()
            await api_log.stop()
            await tokens.close()
            await http.aclose()
            await rt.close()

    app = base_app("erp-connector", metrics, lifespan)
    app.include_router(router)
    return app
