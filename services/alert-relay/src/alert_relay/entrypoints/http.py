"""POST /wecom and /dingtalk (Alertmanager webhook_configs), /healthz, /readyz, /metrics.

A robot that refuses a message gets 502, so Alertmanager retries the notification and counts the failure
(alertmanager_notifications_failed_total{integration="webhook"}); a robot that is not configured gets 200.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from alert_relay.domain.errors import RobotRefusedError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from alert_relay.adapters.metrics import RelayMetrics
    from alert_relay.service_layer.relay import Relay

log = logging.getLogger(__name__)


def relay_router(relay: Relay, metrics: RelayMetrics) -> APIRouter:
    router = APIRouter()

    async def forward(
        robot: str, send: Callable[[dict[str, Any]], Awaitable[bool]], payload: dict[str, Any]
    ) -> Response:
        try:
            sent = await send(payload)
        except RobotRefusedError as exc:
            metrics.messages.labels(robot, "failed").inc()
            log.error("relay to %s failed: %s", robot, exc)
            return JSONResponse({"status": "failed", "error": str(exc)}, status_code=502)
        outcome = "sent" if sent else "not_configured"
        metrics.messages.labels(robot, outcome).inc()
        return JSONResponse({"status": outcome})

    @router.post("/wecom")
    async def wecom(payload: dict[str, Any] = Body(...)) -> Response:
        return await forward("wecom", relay.to_wecom, payload)

    @router.post("/dingtalk")
    async def dingtalk(payload: dict[str, Any] = Body(...)) -> Response:
        return await forward("dingtalk", relay.to_dingtalk, payload)

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "alert-relay"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, Any]:  # nothing to reach before a notification comes in
        return {"status": "ready", "robots": relay.configured()}

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
