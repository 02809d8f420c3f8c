"""Composition root: create_app(settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI

from common import topics
from common.bearer import TokenVerifier
from common.service import Metrics, ServiceRuntime, base_app
from rules.config import Settings
from rules.entrypoints.http import router
from rules.entrypoints.kafka import on_contract_standardized

SCHEMA = "rules"
CONTRACTS_GROUP = "rules-contracts"


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    tokens: TokenVerifier


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("rules")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("rules", SCHEMA, settings, metrics)
        await rt.open([topics.TRANSFORM_CONTRACT_STANDARDIZED])
        try:
            rt.subscribe(topics.TRANSFORM_CONTRACT_STANDARDIZED, CONTRACTS_GROUP, on_contract_standardized)
            secret = settings.token_secret.get_secret_value()
            app.state.ctx = Context(
                settings, rt.pool, TokenVerifier(secret, settings.token_issuer, settings.token_audience)
            )
            await rt.start(app)
            yield
        finally:
            await rt.close()

    app = base_app("rules", metrics, lifespan)
    app.include_router(router)
    return app
