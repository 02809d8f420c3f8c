"""ingest's HTTP routes: translate requests into commands and results into JSON. No SQL here."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from common.logs import correlation_id
from common.openapi import errors
from common.rate_limit import Limit, RateLimitedError, rate_limited, source_address
from common.web import ApiError, json_body, json_response
from ingest.domain.capture import CaptureError
from ingest.domain.progress import ReportError, parse_report
from ingest.entrypoints.auth import Caller, require
from ingest.entrypoints.capture_models import CaptureBody
from ingest.entrypoints.context import Ctx, Limiter
from ingest.service_layer.access import InvalidClientError, LoginLimits
from ingest.service_layer.batches import UploadBatch
from ingest.service_layer.errors import DailyRowLimitError, IngestError
from ingest.service_layer.idempotency import IdempotentRequest

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _as_api_error(exc: IngestError) -> ApiError:
    retry = {"Retry-After": "1"} if exc.status == 503 else None  # busy: the same request will do shortly
    if isinstance(exc, DailyRowLimitError):
        retry = {"Retry-After": str(exc.retry_after_s)}  # the next China-day midnight
    return ApiError(exc.status, exc.code, exc.message, headers=retry)


async def _credentials(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    body = json_body(raw)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "请求体必须是 JSON 对象 / body must be a JSON object")
    return body


@router.post("/auth/system-login", responses=errors(401, 429))
async def system_login(request: Request, ctx: Ctx, limiter: Limiter) -> Response:
    body = await _credentials(request)
    if body.get("grant_type") != "client_credentials":
        raise ApiError(
            400, "unsupported_grant_type", "grant_type 必须是 client_credentials", headers=NO_STORE
        )
    client_id, secret = body.get("client_id"), body.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise ApiError(
            400, "invalid_request", "需要 client_id 和 client_secret / both are required", headers=NO_STORE
        )
    settings = ctx.settings
    limits = LoginLimits(
        Limit(
            per_minute=settings.login_failures_per_minute, per_day=settings.login_failures_per_minute * 100
        ),
        Limit(
            per_minute=settings.login_source_failures_per_minute,
            per_day=settings.login_source_failures_per_day,
        ),
    )
    source = source_address(request, settings.trusted_proxies)
    try:
        token, _ = await ctx.login(limiter, (client_id, secret), source, limits)
    except InvalidClientError:
        raise ApiError(
            401,
            "invalid_client",
            "client_id 或 client_secret 错误 / client authentication failed",
            headers={**NO_STORE, "WWW-Authenticate": 'Basic realm="rollsync"'},
        ) from None
    except RateLimitedError as exc:
        raise rate_limited(exc) from exc
    await ctx.last_seen.touch(client_id)
    body_out = {"access_token": token, "token_type": "Bearer", "expires_in": ctx.issuer.ttl_s}
    return json_response(body_out, headers=NO_STORE)


@router.get("/.well-known/jwks.json")
async def jwks(ctx: Ctx) -> Response:
    """The public keys tokens are signed with (RFC 7517): the signing key first, then published ones."""
    document = ctx.issuer.keys.jwks()
    return json_response(document, headers={"Cache-Control": "public, max-age=60"})


@router.get("/internal/token-revocations")
async def token_revocations(ctx: Ctx) -> Response:
    """Clients whose older tokens every service refuses (common.revocation). Not routed through the edge."""
    clients = [
        {"client_id": r.client_id, "min_version": r.min_version, "disabled": r.disabled}
        for r in await ctx.revocations()
    ]
    return json_response({"clients": clients}, headers=NO_STORE)


def _batch_lists(body: Any, max_rows: int) -> tuple[list[object], list[object]]:
    """`contracts` and the optional `deleted` list; together they share the per-request row limit."""
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_request", "需要 contracts 数组 / body needs a `contracts` array")
    rows, deleted = body.get("contracts", [] if "deleted" in body else None), body.get("deleted", [])
    if not isinstance(rows, list):
        raise ApiError(422, "invalid_request", "需要 contracts 数组 / body needs a `contracts` array")
    if not isinstance(deleted, list):
        raise ApiError(
            422, "invalid_deleted", "deleted 必须是 [{合同编号, 产品ID}] 数组 / `deleted` must be an array"
        )
    if not rows and not deleted:
        raise ApiError(
            422, "empty_batch", "contracts 与 deleted 均为空 / `contracts` and `deleted` are both empty"
        )
    if len(rows) + len(deleted) > max_rows:
        raise ApiError(
            413, "too_many_rows", f"每次最多 {max_rows} 行，请分批上传 / at most {max_rows} rows per request"
        )
    return rows, deleted


def _batch_command(body: Any, caller: Caller, key: str | None, raw: bytes, max_rows: int) -> UploadBatch:
    rows, deleted = _batch_lists(body, max_rows)
    overwrite, source = body.get("overwrite", False), body.get("source", "unknown")
    if not isinstance(overwrite, bool):
        raise ApiError(422, "invalid_overwrite", "overwrite 必须是 true 或 false / must be a boolean")
    if not isinstance(source, str) or not 0 < len(source) <= 64:
        raise ApiError(422, "invalid_source", "source 必须是 1-64 字符的文本 / must be 1-64 chars of text")
    if key is not None and not 0 < len(key) <= 200:
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key 长度须为 1-200 / must be 1-200 chars")
    request_hash = hashlib.sha256(raw).hexdigest()  # the whole body: contracts, deleted and flags
    return UploadBatch(
        caller.client_id, rows, overwrite, source, key, request_hash, correlation_id.get(), deleted
    )


@router.post("/sync/contracts/batch")
async def upload_contracts(
    request: Request,
    ctx: Ctx,
    caller: Annotated[Caller, require("contracts:write")],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    raw = await request.body()
    command = _batch_command(json_body(raw), caller, idempotency_key, raw, ctx.settings.max_rows_per_batch)
    try:
        body = await ctx.upload_batch(command)
    except IngestError as exc:
        raise _as_api_error(exc) from exc
    return Response(body, media_type="application/json")


def _idempotent(caller: Caller, key: str | None, target: str, raw: bytes) -> IdempotentRequest | None:
    """The same key means the same request: same target (method and path) and same body bytes."""
    if key is None:
        return None
    if not 0 < len(key) <= 200:
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key 长度须为 1-200 / must be 1-200 chars")
    request_hash = hashlib.sha256(target.encode() + b"\n" + raw).hexdigest()
    return IdempotentRequest(caller.client_id, key, request_hash)


@router.put("/sync/contracts/{contract_no}/progress", responses=errors(404, 409))
async def put_progress(
    contract_no: str,
    request: Request,
    ctx: Ctx,
    caller: Annotated[Caller, require("progress:write")],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    raw = await request.body()
    idempotency = _idempotent(caller, idempotency_key, f"PUT {request.url.path}", raw)
    try:
        skew = timedelta(seconds=ctx.settings.update_time_max_skew_s)
        report = parse_report(contract_no, json_body(raw), max_skew=skew)
        body = await ctx.report_progress(report, caller.client_id, correlation_id.get(), idempotency)
    except ReportError as exc:
        raise ApiError(422, exc.code, str(exc)) from exc
    except IngestError as exc:
        raise _as_api_error(exc) from exc
    return Response(body, media_type="application/json")


@router.post("/sync/employees/batch")
async def upload_employee_list(
    request: Request,
    ctx: Ctx,
    caller: Annotated[Caller, require("employees:write")],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Seed 000's employee list (number, name, workshop, processes, active); same limits as the contract batch."""
    raw = await request.body()
    body = json_body(raw)
    rows = body.get("employees") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise ApiError(422, "invalid_request", "需要 employees 数组 / body needs an `employees` array")
    if not rows:
        raise ApiError(422, "empty_batch", "employees 为空 / `employees` is empty")
    max_rows = ctx.settings.max_rows_per_batch
    if len(rows) > max_rows:
        raise ApiError(
            413, "too_many_rows", f"每次最多 {max_rows} 行，请分批上传 / at most {max_rows} rows per request"
        )
    idempotency = _idempotent(caller, idempotency_key, f"POST {request.url.path}", raw)
    try:
        answer = await ctx.upload_employees(rows, caller.client_id, idempotency, correlation_id.get())
    except IngestError as exc:
        raise _as_api_error(exc) from exc
    return Response(answer, media_type="application/json")


@router.post("/customers/capture")
async def post_capture(
    body: CaptureBody, ctx: Ctx, caller: Annotated[Caller, require("customers:write")]
) -> Response:
    """A WeChat-captured customer with its AI-extracted fields; unchanged content emits nothing."""
    try:
        capture = body.to_capture()
    except CaptureError as exc:
        raise ApiError(422, exc.code, str(exc)) from exc
    result = await ctx.capture_customer(capture, caller.client_id, correlation_id.get())
    return json_response(result)
