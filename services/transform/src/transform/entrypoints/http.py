"""transform's read-side HTTP routes: pending updates for the local system, queries, consistency."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import ORJSONResponse, Response

from common.bearer import TokenClaims, TokenVerifier, require_scope
from common.web import ApiError
from transform.service_layer.pending import BadSinceError, pending_updates

router = APIRouter()


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.ctx.tokens
    return verifier


SyncRead = Annotated[TokenClaims, Depends(require_scope("sync:read", _verifier))]


@router.get("/sync/pending-updates")
async def get_pending_updates(
    request: Request,
    _: SyncRead,
    since: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    ctx = request.app.state.ctx
    try:
        body = await pending_updates(ctx.pool, since, limit, ctx.settings.feed_overlap_s)
    except BadSinceError as exc:
        raise ApiError(
            422, "invalid_since", f"since 须为 ISO-8601 时间或 next_cursor / not a time or cursor: {exc}"
        ) from exc
    return ORJSONResponse(body)
