"""Composition root: create_app(settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI

from common.bearer import TokenVerifier
from common.service import Metrics, ServiceRuntime, base_app
from erp_connector.config import Settings
from erp_connector.entrypoints.http import router

SCHEMA = "erp"


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    tokens: TokenVerifier


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("erp-connector")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("erp-connector", SCHEMA, settings, metrics)
        await rt.open([])
        try:
            secret = settings.token_secret.get_secret_value()
            app.state.ctx = Context(
                settings, rt.pool, TokenVerifier(secret, settings.token_issuer, settings.token_audience)
            )
            await rt.start(app)
            yield
        finally:
            await rt.close()

    app = base_app("erp-connector", metrics, lifespan)
    app.include_router(router)
    return app
