"""Composition root: create_app(settings) wires the pool, tokens, outbox relay and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from common import topics
from common.db import create_pool
from common.health import health_router, postgres_check
from common.kafka import ensure_topics
from common.metrics import Metrics
from common.relay import OutboxRelay
from common.web import install_error_handlers, install_request_middleware
from fastapi import FastAPI

from ingest.adapters.tokens import JwtTokens
from ingest.config import Settings
from ingest.entrypoints.http import router

SCHEMA = "ingest"


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    tokens: JwtTokens
    relay: OutboxRelay


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("ingest")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings.kafka, [topics.INGEST_HETONG_ROW_CHANGED, topics.INGEST_PROGRESS_REPORTED]
        )
        pool = await create_pool(settings.postgres, SCHEMA)
        relay = OutboxRelay(
            pool,
            settings.postgres,
            settings.kafka,
            SCHEMA,
            batch_size=settings.relay_batch_size,
            metrics=metrics,
        )
        tokens = JwtTokens(
            settings.token_secret.get_secret_value(),
            settings.token_issuer,
            settings.token_audience,
            settings.token_ttl_s,
        )
        app.state.ctx = Context(settings, pool, tokens, relay)
        await relay.start()
        app.include_router(health_router({"postgres": postgres_check(pool), "kafka": relay.ping}, metrics))
        metrics.on_scrape(relay.refresh_metrics)
        try:
            yield
        finally:
            await relay.stop()
            await pool.close()

    app = FastAPI(title="rollsync ingest", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    install_request_middleware(app, metrics, settings.max_body_bytes)
    app.include_router(router)
    return app
