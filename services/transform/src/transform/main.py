"""Composition root: create_app(settings) wires the runtime, subscribers and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI
from prometheus_client import Gauge

from common import topics
from common.bearer import TokenVerifier, remote_verifier
from common.events.ingest import HetongRowChanged, ProgressReported
from common.service import Metrics, ServiceRuntime, base_app
from transform.adapters import queries
from transform.adapters.feed import retention_policy, seconds_since_last_change
from transform.config import Settings
from transform.entrypoints.http import router
from transform.entrypoints.kafka import (
    contracts_locked_first,
    on_employee_changed,
    on_hetong_row_changed,
    on_progress_reported,
)
from transform.entrypoints.processes_http import router as processes_router
from transform.entrypoints.reconcile_http import router as reconcile_router
from transform.service_layer.catalog import announce_unannounced
from transform.service_layer.configuration import ConfigurationCache
from transform.service_layer.consistency_schedule import ConsistencySchedule

SCHEMA = "transform"
LINES_GROUP = "transform-lines"
PROGRESS_GROUP = "transform-progress"  # its own consumer: a history import never delays progress
EMPLOYEES_GROUP = "transform-employees"


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    tokens: TokenVerifier
    config: ConfigurationCache


def _freshness(pool: asyncpg.Pool, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """rollsync_feed_freshness_seconds: now − when the pending-updates feed last recorded a change."""
    gauge = Gauge(
        "rollsync_feed_freshness_seconds",
        "Seconds since the pending-updates feed last changed",
        registry=metrics.registry,
    )

    async def refresh() -> None:
        gauge.set(await seconds_since_last_change(pool))

    return refresh


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("transform")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("transform", SCHEMA, settings, metrics)
        await rt.open(
            [
                topics.INGEST_HETONG_ROW_CHANGED,
                topics.INGEST_PROGRESS_REPORTED,
                topics.INGEST_EMPLOYEE_CHANGED,
                topics.TRANSFORM_CONTRACT_STANDARDIZED,
                topics.TRANSFORM_PROCESS_CHANGED,
            ]
        )
        pool = rt.pool
        checks = ConsistencySchedule(
            lambda sample: queries.consistency(pool, sample), metrics.registry, settings.consistency_check_s
        )
        tokens = remote_verifier(settings, metrics)
        try:
            config = ConfigurationCache(rt.pool, settings.config_reload_s)
            await config.seed_defaults()
            await announce_unannounced(rt.pool, "transform-start")  # the catalogue's seed rows, once
            if settings.role in ("all", "lines"):
                rt.subscribe(
                    topics.INGEST_HETONG_ROW_CHANGED,
                    LINES_GROUP,
                    on_hetong_row_changed(config),
                    max_records=settings.import_batch_size,
                    before_inbox=contracts_locked_first(HetongRowChanged),
                )
                rt.subscribe(
                    topics.INGEST_EMPLOYEE_CHANGED, EMPLOYEES_GROUP, on_employee_changed(), max_records=500
                )
            if settings.role in ("all", "progress"):
                rt.subscribe(
                    topics.INGEST_PROGRESS_REPORTED,
                    PROGRESS_GROUP,
                    on_progress_reported(config),
                    max_records=settings.progress_batch_size,
                    before_inbox=contracts_locked_first(ProgressReported),
                )
            tokens.start()
            app.state.ctx = Context(settings, rt.pool, tokens, config)
            rt.retain([retention_policy(settings.retention.feed_days)])
            await rt.start(app)
            metrics.on_scrape(_freshness(rt.pool, metrics))
            if settings.role in ("all", "lines"):  # one process per deployment exports the findings
                checks.start()
            yield
        finally:
            await checks.stop()
            await tokens.close()
            await rt.close()

    app = base_app("transform", metrics, lifespan, settings.max_body_bytes)
    app.include_router(router)
    app.include_router(reconcile_router)
    app.include_router(processes_router)
    return app
