"""rules' HTTP routes: rule evaluation and administration and operator queries (admin), customers for sales staff
(customers:read to read, customers:edit to settle held values and enter customers by hand)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from common.bearer import TokenClaims, require_scope
from common.openapi import errors
from common.web import ApiError
from rules.domain.manual import ManualInputError
from rules.domain.rule_config import RuleError
from rules.domain.search import Search
from rules.entrypoints.context import Context
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
from rules.service_layer.ports import AbstractCustomerReads, UnitOfWorkFactory
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


async def _context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(_context)]


async def _uow(ctx: Ctx) -> UnitOfWorkFactory:
    return ctx.uow


async def _reads(ctx: Ctx) -> AbstractCustomerReads:
    return ctx.reads


async def _rulebook(ctx: Ctx) -> RuleBookCache:
    return ctx.rulebook


async def _deps(ctx: Ctx) -> Deps:
    return ctx.deps


# What a route is given: a unit of work of its own per call, the read side, the rule book, the decision path
Uow = Annotated[UnitOfWorkFactory, Depends(_uow)]
Reads = Annotated[AbstractCustomerReads, Depends(_reads)]
Books = Annotated[RuleBookCache, Depends(_rulebook)]
Decide = Annotated[Deps, Depends(_deps)]


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


def _who(request: Request, claims: TokenClaims, action: str) -> tuple[str, str]:
    """(client id, correlation id) of a person's write."""
    return claims.client_id, request.headers.get("x-request-id") or f"{action}-{claims.client_id}"


@router.post("/rules/evaluate")
async def evaluate(books: Books, _: Admin, body: EvaluateRequest) -> dict[str, Any]:
    """Seed 004 Q2: what `rule_engine.evaluate(customer)` answers (action, reason, rule) and the quality behind it."""
    book = await books.get()
    return admin.evaluate_payload(body.model_dump(exclude_none=True), book)


@router.post("/rules/dry-run", responses=GUARDED)
async def dry_run(reads: Reads, books: Books, _: Admin, body: DryRunBody) -> dict[str, Any]:
    """How many customers a proposed rule or threshold change would flip between push and hold; nothing saved."""
    patches = {name: patch.changes() for name, patch in body.rules.items()}
    new_rules = [r.model_dump() for r in body.new_rules]
    call = admin.dry_run(reads, books, patches, new_rules, body.config, body.sample)
    return await _guard(call, "rule")


@router.get("/rules")
async def list_rules(books: Books, _: Admin) -> dict[str, Any]:
    return admin.book_json(await books.get(), books.problems)


@router.post("/rules", status_code=201, responses=GUARDED)
async def create_rule(uow: Uow, claims: Admin, body: RuleBody) -> dict[str, Any]:
    return await _guard(admin.create_rule(uow, body.model_dump(), claims.client_id), "rule")


@router.patch("/rules/{name}", responses=GUARDED)
async def update_rule(uow: Uow, claims: Admin, name: RuleName, body: RulePatch) -> dict[str, Any]:
    return await _guard(admin.update_rule(uow, name, body.changes(), claims.client_id), "rule")


@router.put("/rules/config/{key}", responses=GUARDED)
async def set_config(uow: Uow, claims: Admin, key: RuleName, body: ConfigBody) -> dict[str, Any]:
    return await _guard(admin.set_config(uow, key, body.value, claims.client_id), "config")


@router.put("/rules/field-policies/{field}", responses=GUARDED)
async def set_policy(uow: Uow, claims: Admin, field: RuleName, body: PolicyBody) -> dict[str, Any]:
    return await _guard(admin.set_policy(uow, field, body.strategy, claims.client_id), "field")


@router.get("/rules/audit")
async def audit_trail(
    reads: Reads,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Who changed which rule, config value or field policy, from what to what, and when."""
    return {"changes": await admin.audit_trail(reads, limit, before)}


@router.get("/customers/candidates")
async def customer_candidates(
    reads: Reads,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Companies named as 甲方 in contracts, with the contract lines that name them."""
    return await customer_queries.candidates(reads, limit, offset)


@router.get("/customers/pending-sync")
async def pending_sync(
    reads: Reads,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The seed's v_pending_sync_customers: pending or failed, not invalid, mandatory > high > medium > low."""
    return await customer_queries.pending_sync(reads, limit, offset)


@router.get("/customers")
async def customer_list(
    reads: Reads,
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
    return await customer_queries.search(reads, query)


@router.get("/customers/sync-statistics")
async def sync_statistics(
    reads: Reads, _: Admin, days: Annotated[int, Query(ge=1, le=90)] = 7
) -> dict[str, Any]:
    """The seed's v_sync_statistics: counts by day, direction and result; failures in the last hour."""
    return await customer_queries.sync_statistics(reads, days)


@router.get("/customers/{customer_id}", responses=GUARDED)
async def customer_detail(reads: Reads, _: Reader, customer_id: CustomerId) -> dict[str, Any]:
    """One unified customer: values, per-field provenance, quality, sync state and recent decisions."""
    return await _guard(customer_queries.customer_detail(reads, customer_id), "customer")


@router.get("/customers/{customer_id}/history", responses=GUARDED)
async def customer_history(
    reads: Reads,
    _: Reader,
    customer_id: CustomerId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """field_change_history, newest first; page with `before=<next_before>`."""
    return await _guard(customer_queries.customer_history(reads, customer_id, limit, before), "customer")


@router.post("/customers/{customer_id}/resync", responses=GUARDED)
async def customer_resync(
    request: Request, uow: Uow, deps: Decide, claims: Admin, customer_id: CustomerId
) -> dict[str, Any]:
    """Seed 004 Q3: decide again now and, if the rules say push, request every value we hold again."""
    _, correlation = _who(request, claims, "resync")
    return await _guard(resync.force_resync(uow, deps, customer_id, correlation), "customer")


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
    request: Request, uow: Uow, deps: Decide, claims: Editor, customer_id: CustomerId, body: ResolveBody
) -> dict[str, Any]:
    """Settle a value held for a manual decision (`provenance.<field>.pending`), audited in the history,
    then the usual sync decision."""
    call = manual.resolve_pending(
        uow,
        deps,
        customer_id,
        body.field,
        body.choose,
        body.value,
        _who(request, claims, "manual-merge"),
    )
    return await _guard(call, "customer")


@router.post("/customers", status_code=201, responses=ENTRY_ERRORS)
async def customer_entry(
    request: Request,
    response: Response,
    uow: Uow,
    deps: Decide,
    claims: Editor,
    body: ManualCustomerBody,
) -> dict[str, Any]:
    """A customer entered by hand (no WeChat id): matched by phone, then company, else created (201)."""
    verified = frozenset(body.verified)
    call = manual.enter_customer(uow, deps, body.values(), verified, _who(request, claims, "manual-entry"))
    answer = await _guard(call, "customer")
    response.status_code = 201 if answer["created"] else 200
    return answer
