"""Composition root: create_app(settings) wires the runtime (pool, outbox relay), tokens and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI

from common import topics
from common.bearer import TokenVerifier
from common.service import Metrics, ServiceRuntime, base_app
from ingest.adapters.retention import retention_policies
from ingest.adapters.tokens import JwtIssuer, SigningKeys
from ingest.config import Settings
from ingest.entrypoints.http import router
from ingest.entrypoints.kafka import on_process_changed
from ingest.service_layer.employees import announce_unannounced, flagged_reporter_gauge
from ingest.service_layer.heartbeat import LastSeen, last_seen_gauges

SCHEMA = "ingest"
PROCESSES_GROUP = "ingest-processes"


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    tokens: TokenVerifier  # ingest's own keys; client status and version come from its table (auth.py)
    issuer: JwtIssuer
    last_seen: LastSeen


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
            keys = SigningKeys.from_files(settings.token_signing_key_file, settings.token_published_key_files)
            issuer = JwtIssuer(keys, settings.token_issuer, settings.token_audience, settings.token_ttl_s)
            tokens = TokenVerifier(keys.key_set(), settings.token_issuer, settings.token_audience)
            last_seen = LastSeen(rt.pool, settings.last_seen_every_s)
            app.state.ctx = Context(settings, rt.pool, tokens, issuer, last_seen)
            await announce_unannounced(rt.pool, "ingest-start")  # the list uploaded before its events existed
            rt.subscribe(
                topics.TRANSFORM_PROCESS_CHANGED, PROCESSES_GROUP, on_process_changed(), max_records=100
            )
            rt.retain(retention_policies(settings.retention))
            await rt.start(app)
            metrics.on_scrape(last_seen_gauges(rt.pool, metrics))
            metrics.on_scrape(flagged_reporter_gauge(rt.pool, metrics))
            yield
        finally:
            await rt.close()

    app = base_app(
        "ingest", metrics, lifespan, settings.max_body_bytes, public_paths=frozenset({"/auth/system-login"})
    )
    app.include_router(router)
    return app
