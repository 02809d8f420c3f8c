"""transform's read-side HTTP routes: pending updates for the local system, queries, consistency."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BeforeValidator

from common.bearer import TokenClaims, require_scope
from common.openapi import errors
from common.web import ApiError, json_response
from transform.adapters import queries
from transform.adapters.queries import ContractFilter
from transform.domain.normalize import normalize_text
from transform.entrypoints.context import Ctx
from transform.entrypoints.present import decode_json_columns
from transform.service_layer.employees import EmployeeQueueError, queue_processes
from transform.service_layer.pending import BadSinceError, CursorExpiredError, pending_updates
from transform.service_layer.reconciliation import local_vs_cloud

router = APIRouter()


SyncRead = Annotated[TokenClaims, require_scope("sync:read")]


def _iso_date(value: object) -> object:
    """The document says `format: date`; pydantic alone would also take `0` (a Unix time) or `2024-01-01T00:00`."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date, YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


@router.get("/sync/pending-updates", responses=errors(410))
async def get_pending_updates(
    ctx: Ctx,
    _: SyncRead,
    since: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    try:
        body = await pending_updates(ctx.feed, since, limit, ctx.settings.feed_overlap_s)
    except BadSinceError as exc:
        raise ApiError(
            422, "invalid_since", f"since 须为 ISO-8601 时间或 next_cursor / not a time or cursor: {exc}"
        ) from exc
    except CursorExpiredError as exc:
        days = ctx.settings.retention.feed_days
        raise ApiError(
            410,
            "cursor_expired",
            f"since 早于变更保留期（{days} 天），其后的部分变更已清理：请省略 since 从头重新同步，再保存新的 next_cursor"
            f" / since is older than the feed's {days}-day retention and changes after it were pruned:"
            " re-sync from the start (omit since), then keep the new next_cursor",
        ) from exc
    return json_response(body)


@router.get(
    "/contracts",
    responses=errors(
        **{
            "404": "`employee_not_found`: no such 工号",
            "409": "`employee_inactive`: the employee is inactive",
        }
    ),
)
async def get_contracts(
    ctx: Ctx,
    _: SyncRead,
    party_a: Annotated[str | None, Query(alias="甲方", max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    signed_from: Annotated[IsoDate | None, Query()] = None,
    signed_to: Annotated[IsoDate | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    employee: Annotated[
        str | None,
        Query(
            max_length=100,
            description="工号: only contracts with a line waiting at a process this employee may report (my queue)",
        ),
    ] = None,
) -> Response:
    """Contracts for the mini-program, newest change first; filters combine with AND."""
    processes = None
    if employee is not None:
        number = normalize_text(employee) or ""
        try:
            processes = await queue_processes(ctx.start, number, (await ctx.config.get()).catalog)
        except EmployeeQueueError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc
    f = ContractFilter(party_a, status, signed_from, signed_to, q, limit, offset, processes)
    total, items = await queries.list_contracts(ctx.pool, f)
    return json_response({"total": total, "limit": limit, "offset": offset, "contracts": items})


@router.get("/contracts/{contract_no}", responses=errors(404))
async def get_contract(contract_no: str, ctx: Ctx, _: SyncRead) -> Response:
    lines = await queries.contract_detail(ctx.pool, normalize_text(contract_no) or "")
    if not lines:
        raise ApiError(404, "contract_not_found", f"合同 {contract_no} 不存在 / contract not found")
    return json_response({"合同编号": contract_no, "lines": [decode_json_columns(x) for x in lines]})


@router.get("/reports/consistency")
async def get_consistency(ctx: Ctx, _: SyncRead) -> Response:
    report = await queries.consistency(ctx.pool)
    return json_response({**report, "local_vs_cloud": await local_vs_cloud(ctx.reconciliation)})
