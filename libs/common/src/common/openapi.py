"""Every operation's error answers in the OpenAPI document, from one place (issue 10).

The shared request path answers the same errors on every operation (web.py, input_guard.py, rate_limit.py,
bearer.py); they are added to each operation's `responses` when the document is built, with the shared error
body. A route declares only the answers of its own logic, with `errors(...)`:

    @router.get("/contracts/{contract_no}", responses=errors(404))

Bearer-checked routes are recognised by the dependency `secured(...)` marks (401, 403 and 429 follow).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi.routing import APIRoute, iter_route_contexts

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.dependencies.models import Dependant

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error answer: a stable machine code, a human message (中文 / English) and the"
    " request id (X-Request-Id) to quote when reporting it.",
    "required": ["code", "message", "request_id"],
    "properties": {
        "code": {"type": "string", "description": "Stable machine code, e.g. rate_limited"},
        "message": {"type": "string"},
        "request_id": {"type": "string"},
        "details": {"description": "Optional specifics (e.g. the invalid fields)"},
    },
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {"description": "RFC 6750 Bearer challenge", "schema": {"type": "string"}}
}
DESCRIPTIONS = {
    400: "Malformed request (e.g. `malformed_json`: the body is not JSON)",
    401: "No, malformed, invalid or expired token (`missing_token`, `invalid_request`, `invalid_token`)",
    403: "The token lacks the operation's scope (`insufficient_scope`)",
    404: "Not found",
    409: "Conflict with the current state",
    410: "Gone",
    413: "Body over the service's limit (`payload_too_large`)",
    422: "Invalid input (`invalid_request`, `unstorable_text`, `integer_out_of_range`, `unstorable_value`, ...)",
    429: "Over the caller's rate limit (`rate_limited`); wait `Retry-After` seconds",
    500: "A bug (`internal_error`), logged with the request id",
    503: "PostgreSQL or Kafka briefly unavailable (`service_unavailable`); retry after `Retry-After`",
}
HEADERS = {401: WWW_AUTHENTICATE, 403: WWW_AUTHENTICATE, 429: RETRY_AFTER, 503: RETRY_AFTER}
# What the shared request path can answer on any operation: BodyLimit (413), InputGuard and the database's
# data errors (422), unexpected errors (500) and an unavailable dependency (503).
EVERY_OPERATION = (413, 422, 500, 503)
WITH_A_BODY = (400,)  # malformed_json, for operations that take a body (POST, PUT, PATCH)
SECURED = (401, 403, 429)  # the Bearer check and the per-client rate limit that follows it
BODY_METHODS = frozenset({"post", "put", "patch"})

_MARK = "__rollsync_secured__"
F = TypeVar("F", bound=Callable[..., Any])


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in HEADERS:
        answer["headers"] = HEADERS[status]
    return answer


def errors(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """A route's own error answers for its `responses=`: `errors(404, 409)` or `errors(**{"409": "..."})`."""
    out: dict[int | str, dict[str, Any]] = {s: error_response(s) for s in statuses}
    out.update({str(s): error_response(int(s), text) for s, text in described.items()})
    return out


def secured(dependency: F) -> F:
    """Mark a dependency as the Bearer check (and per-client limit), so its operations document 401/403/429."""
    setattr(dependency, _MARK, True)
    return dependency


def _is_secured(dependant: Dependant) -> bool:
    stack = [dependant]
    while stack:
        item = stack.pop()
        if getattr(item.call, _MARK, False):
            return True
        stack.extend(item.dependencies)
    return False


def shared_errors(method: str, is_secured: bool) -> tuple[int, ...]:
    """The statuses the shared request path can answer for an operation."""
    extra = (WITH_A_BODY if method in BODY_METHODS else ()) + (SECURED if is_secured else ())
    return tuple(sorted((*EVERY_OPERATION, *extra)))


def document_errors(app: FastAPI) -> None:
    """Build the app's document once with every operation's error answers and the shared Error schema.

    Replaces FastAPI's default 422 (`HTTPValidationError`), which is not what our handlers answer.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        routes = {
            (str(c.path_format), m.lower()): c.original_route
            for c in iter_route_contexts(app.routes)  # included routers' routes too
            if isinstance(c.original_route, APIRoute)
            for m in c.methods or ()
        }
        for path, operations in doc.get("paths", {}).items():
            for method, operation in operations.items():
                route = routes.get((path, method))
                is_secured = isinstance(route, APIRoute) and _is_secured(route.dependant)
                responses = operation.setdefault("responses", {})
                for status in shared_errors(method, is_secured):
                    declared = responses.get(str(status))
                    if declared is None or declared.get("description") == "Validation Error":
                        responses[str(status)] = error_response(status)
                for status, answer in list(responses.items()):
                    if status.startswith(("4", "5")):  # every error answer has the shared body
                        answer["content"] = {"application/json": {"schema": ERROR_REF}}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
