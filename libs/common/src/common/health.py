"""/healthz (alive), /readyz (dependencies reachable) and /metrics for every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common.web import json_response

if TYPE_CHECKING:
    import asyncpg

    from common.metrics import Metrics

Check = Callable[[], Awaitable[object]]


def postgres_check(pool: asyncpg.Pool) -> Check:
    async def check() -> object:
        return await pool.fetchval("SELECT 1")

    return check


def health_router(checks: dict[str, Check], metrics: Metrics, timeout_s: float = 3.0) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": metrics.service}

    @router.get("/readyz")
    async def readyz() -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout_s)
                results[name] = "ok"
            except Exception as exc:  # any failure means not ready; say which and why
                results[name] = f"{type(exc).__name__}: {exc}"[:300]
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ready" if ready else "not_ready", "checks": results}
        return json_response(body, 200 if ready else 503)

    @router.get("/metrics")
    async def prometheus_metrics() -> Response:
        await metrics.refresh()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
