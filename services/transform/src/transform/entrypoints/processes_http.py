"""The process catalogue's HTTP API (seed 000 `processes:write`): list, add, rename, aliases, retire, routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from common.bearer import TokenClaims, require_scope
from common.logs import correlation_id
from common.web import ApiError, json_body, json_response
from transform.domain.process_catalog import CatalogError
from transform.entrypoints.context import Context, Ctx
from transform.service_layer import catalog

router = APIRouter(tags=["processes"])
ProcessesWrite = Annotated[TokenClaims, require_scope("processes:write")]
ProcessName = Annotated[
    str, Path(max_length=100, description="The process's name, an alias or a former name")
]
ProductType = Annotated[str, Path(max_length=40, description="gravure, anilox, chrome, repair, ...")]

_ERROR = {
    "type": "object",
    "required": ["code", "message", "request_id"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "request_id": {"type": "string"},
    },
}
_ERRORS: dict[str, Any] = {"description": "error", "content": {"application/json": {"schema": _ERROR}}}


def _body(schema: dict[str, Any], *codes: int) -> dict[str, Any]:
    """OpenAPI for a body the route parses itself (its stable error codes come from the domain's checks)."""
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {str(c): _ERRORS for c in codes},
    }


_NAMES = {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20}
_WEIGHT = {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 999999.99}, {"type": "string"}]}
_STEP = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "required": ["process"],
            "properties": {"process": {"type": "string"}, "weight": _WEIGHT},
        },
    ]
}
ADD = _body(
    {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "aliases": _NAMES}},
    422,
)
RENAME = _body({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}, 404, 422)
ALIASES = _body({"type": "object", "required": ["aliases"], "properties": {"aliases": _NAMES}}, 404, 422)
ROUTE = _body(
    {
        "type": "object",
        "required": ["steps"],
        "properties": {"steps": {"type": "array", "items": _STEP, "maxItems": 60}},
    },
    404,
    422,
)
WEIGHTS = _body(
    {
        "type": "object",
        "required": ["weights"],
        "properties": {"weights": {"type": "object", "additionalProperties": _WEIGHT}},
    },
    404,
    422,
)


def _refused(exc: CatalogError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


async def _json(request: Request) -> object:
    return json_body(await request.body())


def _changed(ctx: Context) -> None:
    """This process applies the change at once; the others see the revision move at their next batch."""
    ctx.config.invalidate()


@router.get("/processes")
async def list_processes(ctx: Ctx, _: ProcessesWrite) -> Response:
    """Every process (id, name, aliases, former names, active, version) and every route with its weights."""
    return json_response(await catalog.catalog_view(ctx.start))


@router.get("/processes/{name}", responses={404: _ERRORS})
async def get_process(name: ProcessName, ctx: Ctx, _: ProcessesWrite) -> Response:
    """One process, found by any of its names, with its history (renames, aliases, retirement)."""
    try:
        return json_response(await catalog.process_view(ctx.start, name))
    except CatalogError as exc:
        raise _refused(exc) from exc


@router.post("/processes", status_code=201, openapi_extra=ADD)
async def add_process(request: Request, ctx: Ctx, claims: ProcessesWrite) -> Response:
    """Add a process: `{"name", "aliases"?}`; 422 `invalid_name` / `duplicate_name` / `reserved_name`."""
    try:
        entry = await catalog.add_process(
            ctx.start, await _json(request), claims.client_id, correlation_id.get()
        )
    except CatalogError as exc:
        raise _refused(exc) from exc
    _changed(ctx)
    return json_response(catalog.entry_view(entry), 201)


@router.post("/processes/{name}/rename", openapi_extra=RENAME)
async def rename_process(name: ProcessName, request: Request, ctx: Ctx, claims: ProcessesWrite) -> Response:
    """`{"name": "<new>"}`; the old name is kept as a former name and still resolves (history)."""
    try:
        entry = await catalog.rename_process(
            ctx.start, name, await _json(request), claims.client_id, correlation_id.get()
        )
    except CatalogError as exc:
        raise _refused(exc) from exc
    _changed(ctx)
    return json_response(catalog.entry_view(entry))


@router.put("/processes/{name}/aliases", openapi_extra=ALIASES)
async def set_aliases(name: ProcessName, request: Request, ctx: Ctx, claims: ProcessesWrite) -> Response:
    """`{"aliases": [...]}`: what the local system's columns call this process (replaces the list)."""
    try:
        entry = await catalog.set_aliases(
            ctx.start, name, await _json(request), claims.client_id, correlation_id.get()
        )
    except CatalogError as exc:
        raise _refused(exc) from exc
    _changed(ctx)
    return json_response(catalog.entry_view(entry))


@router.post("/processes/{name}/retire", responses={404: _ERRORS, 409: _ERRORS})
async def retire_process(name: ProcessName, ctx: Ctx, claims: ProcessesWrite) -> Response:
    """Retire a process no route uses any more (409 `process_in_route` otherwise)."""
    try:
        entry = await catalog.retire_process(ctx.start, name, claims.client_id, correlation_id.get())
    except CatalogError as exc:
        raise _refused(exc) from exc
    _changed(ctx)
    return json_response(catalog.entry_view(entry))


@router.put("/process-routes/{product_type}", openapi_extra=ROUTE)
async def put_route(product_type: ProductType, request: Request, ctx: Ctx, _: ProcessesWrite) -> Response:
    """`{"steps": ["基辊加工", {"process": "动平衡", "weight": 1}, ...]}`: the route in its new order."""
    try:
        steps = await catalog.put_route(ctx.start, product_type, await _json(request))
    except CatalogError as exc:
        raise _refused(exc) from exc
    _changed(ctx)
    return json_response({"product_type": product_type, "steps": steps})


@router.put("/process-routes/{product_type}/weights", openapi_extra=WEIGHTS)
async def put_weights(product_type: ProductType, request: Request, ctx: Ctx, _: ProcessesWrite) -> Response:
    """`{"weights": {"<process>": <weight>, ...}}` for steps on the route; others keep theirs."""
    try:
        steps = await catalog.put_weights(ctx.start, product_type, await _json(request))
    except CatalogError as exc:
        raise _refused(exc) from exc
    _changed(ctx)
    return json_response({"product_type": product_type, "steps": steps})
