"""erp-connector's HTTP routes (admin scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from common.bearer import TokenClaims, TokenVerifier, require_scope
from erp_connector.adapters import repository as repo

router = APIRouter()


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.ctx.tokens
    return verifier


Admin = Annotated[TokenClaims, Depends(require_scope("admin", _verifier))]


@router.get("/sync/erp/status")
async def sync_status(request: Request, _: Admin) -> dict[str, Any]:
    """Last pull and push and failures in the last hour, from erp_sync_logs."""
    return await repo.last_syncs(request.app.state.ctx.pool)
