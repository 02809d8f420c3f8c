"""Composition root: create_app(settings) wires the lifespan, the subscriber and the routes (bootstrap.py builds
what they call)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common import topics
from common.service import Metrics, ServiceRuntime, base_app
from ingest.adapters.schema import SCHEMA
from ingest.bootstrap import bootstrap
from ingest.config import Settings
from ingest.entrypoints.http import router

PROCESSES_GROUP = "ingest-processes"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("ingest")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("ingest", SCHEMA, settings, metrics)
        produced = [
            topics.INGEST_HETONG_ROW_CHANGED,
            topics.INGEST_PROGRESS_REPORTED,
            topics.INGEST_WECHAT_CUSTOMER_CAPTURED,
            topics.INGEST_EMPLOYEE_CHANGED,
            topics.TRANSFORM_PROCESS_CHANGED,  # consumed: ingest's copy of transform's process catalogue
        ]
        # Progress gets its own relay lane: a history import never queues in front of a worker's report.
        await rt.open(produced, priority_topics=frozenset({topics.INGEST_PROGRESS_REPORTED}))
        try:
            ingest = bootstrap(settings, rt.pool, metrics)
            app.state.ctx = ingest.ctx
            await ingest.announce_unannounced()  # the list uploaded before its events existed
            rt.subscribe(
                topics.TRANSFORM_PROCESS_CHANGED, PROCESSES_GROUP, ingest.on_process_changed, max_records=100
            )
            rt.retain(ingest.retention)
            await rt.start(app)
            for refresh in ingest.scrape:
                metrics.on_scrape(refresh)
            yield
        finally:
            await rt.close()

    app = base_app(
        "ingest", metrics, lifespan, settings.max_body_bytes, public_paths=frozenset({"/auth/system-login"})
    )
    app.include_router(router)
    return app
