"""Composition root: create_app(settings) wires routes, the subscriber and the lifespan; bootstrap
builds what they call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from common import topics
from common.bearer import remote_verifier
from common.service import Metrics, ServiceRuntime, base_app
from erp_connector import bootstrap
from erp_connector.adapters.retention import retention_policies
from erp_connector.adapters.schema import SCHEMA
from erp_connector.config import Settings
from erp_connector.entrypoints.context import Context
from erp_connector.entrypoints.http import router

if TYPE_CHECKING:
    import httpx

NAME = "erp-connector"
TOPICS = [
    topics.RULES_CUSTOMER_SYNC_REQUESTED,
    topics.ERP_CUSTOMER_PULLED,
    topics.ERP_CUSTOMER_PUSH_COMPLETED,
]


def create_app(
    settings: Settings | None = None, erp_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`erp_transport` lets tests put an in-process ERP simulator behind the real client."""
    settings = settings or Settings()
    metrics = Metrics(NAME)
    instruments = bootstrap.Instruments.build(settings.erp, metrics.registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime(NAME, SCHEMA, settings, metrics)
        await rt.open(TOPICS)
        tokens = remote_verifier(settings, metrics)
        try:
            async with bootstrap.connector(settings, rt.pool, instruments, erp_transport) as c:
                rt.subscribe(topics.RULES_CUSTOMER_SYNC_REQUESTED, settings.consumer_group, c.subscriber)
                metrics.on_scrape(c.refresh_backlog)
                tokens.start()
                app.state.ctx = Context(tokens, c.control, c.scheduler, c.push, c.status)
                rt.retain(retention_policies(settings.retention))
                await rt.start(app)
                c.start()
                yield
        finally:
            await tokens.close()
            await rt.close()

    app = base_app(NAME, metrics, lifespan)
    app.include_router(router)
    return app
