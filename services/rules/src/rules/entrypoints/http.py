"""rules' HTTP routes: rule evaluation and administration and operator queries (admin), customers for sales staff
(customers:read to read, customers:edit to settle held values and enter customers by hand)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response

from common.bearer import TokenClaims, require_scope
from common.openapi import errors
from common.web import ApiError
from rules.adapters import repository as repo
from rules.adapters.customer_search import Search, search
from rules.domain.manual import ManualInputError
from rules.domain.rule_config import RuleError
from rules.entrypoints.models import (
    ConfigBody,
    DryRunBody,
    EvaluateRequest,
    ManualCustomerBody,
    PolicyBody,
    ResolveBody,
    RuleBody,
    RulePatch,
)
from rules.service_layer import admin, customer_queries, manual, resync
from rules.service_layer.decisions import Deps

if TYPE_CHECKING:
    import asyncpg

    from rules.service_layer.rulebook_cache import RuleBookCache

router = APIRouter()
T = TypeVar("T")


Admin = Annotated[TokenClaims, require_scope("admin")]
# Sales staff read customers (admin passes every scope check too)
GUARDED = errors(404, 409)  # what _guard answers for a domain refusal (and 422)
STORABLE = r"^[^\x00]+$"  # PostgreSQL text holds no NUL: refused as 422, never a 500
Reader = Annotated[TokenClaims, require_scope("customers:read")]
# Sales staff's writes (resolve a held value, enter a customer): their own scope, apart from ingest's
# customers:write (the WeChat capture feed), so neither client can do the other's writes
Editor = Annotated[TokenClaims, require_scope("customers:edit")]
RuleName = Annotated[str, Path(max_length=64)]
CustomerId = Annotated[str, Path(max_length=100)]


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.ctx.pool
    return pool


def _cache(request: Request) -> RuleBookCache:
    cache: RuleBookCache = request.app.state.ctx.rulebook
    return cache


async def _guard(call: Awaitable[T], what: str) -> T:
    """Domain refusals as stable error codes: never a 5xx for bad input."""
    try:
        return await call
    except admin.NotFoundError as exc:
        raise ApiError(404, f"{what}_not_found", f"未找到 {exc} / {what} not found") from exc
    except admin.ConflictError as exc:
        raise ApiError(409, f"{what}_exists", str(exc)) from exc
    except RuleError as exc:
        raise ApiError(422, f"invalid_{what}", str(exc)) from exc
    except ManualInputError as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc


def _deps(request: Request) -> Deps:
    ctx = request.app.state.ctx
    return ctx.deps if ctx.deps is not None else Deps(ctx.rulebook)


def _who(request: Request, claims: TokenClaims, action: str) -> tuple[str, str]:
    """(client id, correlation id) of a person's write."""
    return claims.client_id, request.headers.get("x-request-id") or f"{action}-{claims.client_id}"


@router.post("/rules/evaluate")
async def evaluate(request: Request, _: Admin, body: EvaluateRequest) -> dict[str, Any]:
    """Seed 004 Q2: what `rule_engine.evaluate(customer)` answers (action, reason, rule) and the quality behind it."""
    book = await _cache(request).get()
    return admin.evaluate_payload(body.model_dump(exclude_none=True), book)


@router.post("/rules/dry-run", responses=GUARDED)
async def dry_run(request: Request, _: Admin, body: DryRunBody) -> dict[str, Any]:
    """How many customers a proposed rule or threshold change would flip between push and hold; nothing saved."""
    patches = {name: patch.changes() for name, patch in body.rules.items()}
    new_rules = [r.model_dump() for r in body.new_rules]
    call = admin.dry_run(_pool(request), _cache(request), patches, new_rules, body.config, body.sample)
    return await _guard(call, "rule")


@router.get("/rules")
async def list_rules(request: Request, _: Admin) -> dict[str, Any]:
    cache = _cache(request)
    return admin.book_json(await cache.get(), cache.problems)


@router.post("/rules", status_code=201, responses=GUARDED)
async def create_rule(request: Request, claims: Admin, body: RuleBody) -> dict[str, Any]:
    return await _guard(admin.create_rule(_pool(request), body.model_dump(), claims.client_id), "rule")


@router.patch("/rules/{name}", responses=GUARDED)
async def update_rule(request: Request, claims: Admin, name: RuleName, body: RulePatch) -> dict[str, Any]:
    return await _guard(admin.update_rule(_pool(request), name, body.changes(), claims.client_id), "rule")


@router.put("/rules/config/{key}", responses=GUARDED)
async def set_config(request: Request, claims: Admin, key: RuleName, body: ConfigBody) -> dict[str, Any]:
    return await _guard(admin.set_config(_pool(request), key, body.value, claims.client_id), "config")


@router.put("/rules/field-policies/{field}", responses=GUARDED)
async def set_policy(request: Request, claims: Admin, field: RuleName, body: PolicyBody) -> dict[str, Any]:
    return await _guard(admin.set_policy(_pool(request), field, body.strategy, claims.client_id), "field")


@router.get("/rules/audit")
async def audit_trail(
    request: Request,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Who changed which rule, config value or field policy, from what to what, and when."""
    return {"changes": await admin.audit_trail(_pool(request), limit, before)}


@router.get("/customers/candidates")
async def customer_candidates(
    request: Request,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, object]:
    """Companies named as 甲方 in contracts, with the contract lines that name them."""
    return {"candidates": await repo.candidates(_pool(request), limit, offset)}


@router.get("/customers/pending-sync")
async def pending_sync(
    request: Request,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The seed's v_pending_sync_customers: pending or failed, not invalid, mandatory > high > medium > low."""
    return await customer_queries.pending_sync(_pool(request), limit, offset)


@router.get("/customers")
async def customer_list(
    request: Request,
    _: Reader,
    name: Annotated[str | None, Query(min_length=1, max_length=100, pattern=STORABLE)] = None,
    phone: Annotated[str | None, Query(pattern=r"^[0-9]{1,11}$")] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100, pattern=STORABLE)] = None,
    min_quality: Annotated[int | None, Query(ge=0, le=100)] = None,
    max_quality: Annotated[int | None, Query(ge=0, le=100)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|synced|failed|skipped)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:
    """Customers for sales (customers:read): search by name, phone prefix, region, quality and sync state."""
    query = Search(name, phone, region, min_quality, max_quality, status, limit, offset)
    total, rows = await search(_pool(request), query)
    return {"total": total, "limit": limit, "offset": offset, "customers": rows}


@router.get("/customers/sync-statistics")
async def sync_statistics(
    request: Request, _: Admin, days: Annotated[int, Query(ge=1, le=90)] = 7
) -> dict[str, Any]:
    """The seed's v_sync_statistics: counts by day, direction and result; failures in the last hour."""
    return await customer_queries.sync_statistics(_pool(request), days)


@router.get("/customers/{customer_id}", responses=GUARDED)
async def customer_detail(request: Request, _: Reader, customer_id: CustomerId) -> dict[str, Any]:
    """One unified customer: values, per-field provenance, quality, sync state and recent decisions."""
    return await _guard(customer_queries.customer_detail(_pool(request), customer_id), "customer")


@router.get("/customers/{customer_id}/history", responses=GUARDED)
async def customer_history(
    request: Request,
    _: Reader,
    customer_id: CustomerId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """field_change_history, newest first; page with `before=<next_before>`."""
    return await _guard(
        customer_queries.customer_history(_pool(request), customer_id, limit, before), "customer"
    )


@router.post("/customers/{customer_id}/resync", responses=GUARDED)
async def customer_resync(request: Request, claims: Admin, customer_id: CustomerId) -> dict[str, Any]:
    """Seed 004 Q3: decide again now and, if the rules say push, request every value we hold again."""
    _, correlation = _who(request, claims, "resync")
    return await _guard(
        resync.force_resync(_pool(request), _deps(request), customer_id, correlation), "customer"
    )


# Error answers of sales staff's writes, for the OpenAPI document (body: {code, message, request_id[, details]})
_DENIED: dict[int | str, dict[str, Any]] = {
    401: {"description": "`missing_token`, `invalid_token`, `invalid_request` (malformed Authorization)"},
    403: {"description": "`insufficient_scope`: the token lacks `customers:edit` (or `admin`)"},
}
RESOLVE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_DENIED,
    404: {"description": "`customer_not_found`"},
    409: {"description": "`nothing_pending`: the field holds no value for a manual decision"},
    422: {
        "description": "`invalid_request` (missing field, wrong type, not exactly one of choose/value), "
        "`unstorable_text` (NUL), `invalid_field` (unknown field), `invalid_value` (empty or not of the field's kind)"
    },
}
ENTRY_ERRORS: dict[int | str, dict[str, Any]] = {
    **_DENIED,
    200: {
        "description": "Matched an existing customer (`matched_by` phone or company_name) and merged into it"
    },
    422: {
        "description": "`invalid_request` (missing field, wrong type, unknown field such as wechat_id), "
        "`unstorable_text` (NUL), `missing_company_name` / `missing_real_name` / `missing_phone` (empty once "
        "cleaned), `invalid_phone` (no 11-digit mobile once full-width digits, spaces and +86 are cleaned), "
        "`invalid_email`, `invalid_company_name`, `invalid_verified`"
    },
}


@router.post("/customers/{customer_id}/resolve", responses=RESOLVE_ERRORS)
async def customer_resolve(
    request: Request, claims: Editor, customer_id: CustomerId, body: ResolveBody
) -> dict[str, Any]:
    """Settle a value held for a manual decision (`provenance.<field>.pending`), audited in the history,
    then the usual sync decision."""
    call = manual.resolve_pending(
        _pool(request),
        _deps(request),
        customer_id,
        body.field,
        body.choose,
        body.value,
        _who(request, claims, "manual-merge"),
    )
    return await _guard(call, "customer")


@router.post("/customers", status_code=201, responses=ENTRY_ERRORS)
async def customer_entry(
    request: Request, response: Response, claims: Editor, body: ManualCustomerBody
) -> dict[str, Any]:
    """A customer entered by hand (no WeChat id): matched by phone, then company, else created (201)."""
    verified = frozenset(body.verified)
    call = manual.enter_customer(
        _pool(request), _deps(request), body.values(), verified, _who(request, claims, "manual-entry")
    )
    answer = await _guard(call, "customer")
    response.status_code = 201 if answer["created"] else 200
    return answer
