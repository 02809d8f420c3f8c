"""create_app(settings): the relay's composition root."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from alert_relay.adapters.metrics import RelayMetrics
from alert_relay.adapters.robot_client import HttpRobotSender
from alert_relay.config import Settings
from alert_relay.entrypoints.http import relay_router
from alert_relay.service_layer.relay import Relay, Robots


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def create_app(
    settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` lets tests put a fake robot behind the real HTTP client."""
    settings = settings or Settings()
    # httpx logs every request line at INFO, and a robot's URL carries its access token: keep that out of logs.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    client = httpx.AsyncClient(timeout=settings.timeout_s, transport=transport, follow_redirects=False)
    robots = Robots(
        wecom_url=_secret(settings.wecom_url),
        dingtalk_url=_secret(settings.dingtalk_url),
        dingtalk_secret=_secret(settings.dingtalk_secret),
        dashboard_url=settings.dashboard_url,
        docs_base=settings.docs_base,
    )
    relay = Relay(robots, HttpRobotSender(client), lambda: int(time.time() * 1000))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    app = FastAPI(title="rollsync alert-relay", lifespan=lifespan)
    app.include_router(relay_router(relay, RelayMetrics()))
    return app
