"""Authenticate before the body is looked at (issue 10): a write request to a protected route without a valid
Bearer token is answered 401, whatever its body holds (malformed JSON, a NUL, a huge integer, wrong fields).

Without this, the body checks that run before a route's own dependencies (InputGuard's 422, FastAPI's JSON
decoding) told an unauthenticated caller how its body was wrong. The scope check (403) stays in the route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.routing import Match

from common.bearer import verify_request
from common.web import ApiError, error_body, json_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ANY_SCOPE: list[str] = []  # the scope is the route's business; only the token's validity is checked here


def _routed(scope: Scope) -> bool:
    """Whether a route takes this method and path (else the router's own 404/405 answers)."""
    return any(route.matches(scope)[0] is Match.FULL for route in scope["app"].router.routes)


class AuthFirst:
    """ASGI middleware, between the request id and the input checks: 401 before anything reads the body."""

    def __init__(self, app: ASGIApp, public_paths: frozenset[str] = frozenset()) -> None:
        self.app, self.public_paths = app, public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in WRITE_METHODS
            or scope["path"] in self.public_paths
            or not _routed(scope)
        ):
            await self.app(scope, receive, send)
            return
        verifier = getattr(getattr(scope["app"].state, "ctx", None), "tokens", None)
        if verifier is not None:
            try:
                await verify_request(Request(scope), verifier, _ANY_SCOPE)
            except ApiError as exc:
                if exc.status == 401:
                    response = json_response(error_body(exc.code, exc.message), 401, exc.headers)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
