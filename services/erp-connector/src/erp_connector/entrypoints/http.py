"""erp-connector's HTTP routes (admin scope): trigger, pause, resume, status."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request

from common.bearer import TokenClaims, require_scope
from common.openapi import errors
from common.web import ApiError
from erp_connector.entrypoints.context import Ctx
from erp_connector.service_layer.scheduler import NotRunningError

router = APIRouter()
DIRECTIONS = {"both": ["pull", "push"], "pull": ["pull"], "push": ["push"]}


Admin = Annotated[TokenClaims, require_scope("admin")]


async def _direction(request: Request) -> str:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", "请求体不是合法的 JSON / body is not valid JSON") from exc
    direction = body.get("direction", "both") if isinstance(body, dict) else None
    if not isinstance(direction, str) or direction not in DIRECTIONS:
        raise ApiError(
            422,
            "invalid_direction",
            'direction 须为 "both"、"pull" 或 "push" / direction must be "both", "pull" or "push"',
            details={"allowed": list(DIRECTIONS)},
        )
    return direction


@router.post("/sync/erp/trigger", status_code=202, responses=errors(409))
async def trigger(request: Request, ctx: Ctx, _: Admin) -> dict[str, Any]:
    """Start a pull, a push or both now (202); 409 while paused or stopped on credentials."""
    direction = await _direction(request)
    try:
        started = ctx.scheduler.trigger(DIRECTIONS[direction])
    except NotRunningError as exc:
        raise ApiError(
            409,
            f"connector_{ctx.control.state.value}",
            f"同步已停止 / connector is {ctx.control.state.value}: {ctx.control.current.reason}",
            details={"state": ctx.control.state.value, "reason": ctx.control.current.reason},
        ) from exc
    return {"direction": direction, "started": started}


@router.post("/sync/erp/pause")
async def pause(ctx: Ctx, _: Admin) -> dict[str, Any]:
    """Stop scheduled and triggered runs at the next page or push; commands keep being queued."""
    await ctx.control.pause()
    ctx.push_worker.stop()
    return {"state": ctx.control.state.value, "reason": ctx.control.current.reason}


@router.post("/sync/erp/resume")
async def resume(ctx: Ctx, _: Admin) -> dict[str, Any]:
    """Lift a pause, or a stop on rejected credentials (allowing one new login)."""
    await ctx.control.resume()
    return {"state": ctx.control.state.value}


@router.get("/sync/erp/status")
async def status(ctx: Ctx, _: Admin) -> dict[str, Any]:
    """Last pull and push, backlog, failures in the last hour, run state and breaker."""
    return await ctx.status()
