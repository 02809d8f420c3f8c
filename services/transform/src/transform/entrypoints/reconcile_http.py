"""POST /sync/reconciliation: a local agent's per-contract digest against the cloud's lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from common.bearer import TokenClaims, require_scope
from common.web import ApiError, json_body, json_response
from transform.domain.reconcile import DigestError, parse_local
from transform.entrypoints.context import Ctx
from transform.service_layer.reconciliation import reconcile

router = APIRouter()


@router.post("/sync/reconciliation")
async def post_reconciliation(
    request: Request, ctx: Ctx, claims: Annotated[TokenClaims, require_scope("sync:read")]
) -> Response:
    try:
        local = parse_local(json_body(await request.body()), ctx.settings.reconcile_max_contracts)
    except DigestError as exc:
        raise ApiError(413 if exc.code == "too_many_contracts" else 422, exc.code, str(exc)) from exc
    return json_response(await reconcile(ctx.reconciliation, claims.client_id, local))
