"""rules' HTTP routes (admin scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from common.bearer import TokenClaims, TokenVerifier, require_scope
from rules.adapters import repository as repo

router = APIRouter()


def _verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.ctx.tokens
    return verifier


Admin = Annotated[TokenClaims, Depends(require_scope("admin", _verifier))]


@router.get("/customers/candidates")
async def customer_candidates(
    request: Request,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, object]:
    """Companies named as 甲方 in contracts, with the contract lines that name them."""
    return {"candidates": await repo.candidates(request.app.state.ctx.pool, limit, offset)}
