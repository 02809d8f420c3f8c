"""Composition root: create_app(settings) wires what bootstrap builds into the lifespan, subscribers and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common import topics
from common.bearer import remote_verifier
from common.service import Metrics, ServiceRuntime, base_app
from transform import bootstrap
from transform.adapters.feed import retention_policy
from transform.adapters.schema import SCHEMA
from transform.config import Settings
from transform.entrypoints.http import router
from transform.entrypoints.processes_http import router as processes_router
from transform.entrypoints.reconcile_http import router as reconcile_router

TOPICS = [
    topics.INGEST_HETONG_ROW_CHANGED,
    topics.INGEST_PROGRESS_REPORTED,
    topics.INGEST_EMPLOYEE_CHANGED,
    topics.TRANSFORM_CONTRACT_STANDARDIZED,
    topics.TRANSFORM_PROCESS_CHANGED,
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("transform")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("transform", SCHEMA, settings, metrics)
        await rt.open(TOPICS)
        checks = bootstrap.consistency_schedule(settings, rt.pool, metrics)
        tokens = remote_verifier(settings, metrics)
        try:
            ctx = bootstrap.context(settings, rt.pool, tokens)
            await bootstrap.prepare(ctx)
            for s in bootstrap.subscriptions(settings, ctx.config):
                rt.subscribe(
                    s.topic, s.group, s.apply, max_records=s.max_records, before_inbox=s.before_inbox
                )
            tokens.start()
            app.state.ctx = ctx
            rt.retain([retention_policy(settings.retention.feed_days)])
            await rt.start(app)
            metrics.on_scrape(bootstrap.feed_freshness(rt.pool, metrics))
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
