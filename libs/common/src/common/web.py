"""HTTP plumbing shared by services: JSON errors with stable codes, limits, request metrics."""

from __future__ import annotations

import logging
import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response as _Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.delivery import is_unavailable
from common.logs import correlation_id

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from common.metrics import Metrics

log = logging.getLogger(__name__)


def json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> _Response:
    """JSON with orjson: dates and times as ISO-8601, decimals as numbers, UTF-8 kept as is."""
    return _Response(
        orjson.dumps(body, default=json_default), status_code, headers, media_type="application/json"
    )


class ApiError(Exception):
    """An error a client can act on: HTTP status, a stable machine code and a human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


def json_body(raw: bytes) -> Any:
    """A request body parsed as JSON, or the 400 `malformed_json` every route answers for one that is not."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400, "malformed_json", f"请求体不是合法的 JSON / body is not valid JSON: {exc}"
        ) from exc


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": correlation_id.get()}
    if details is not None:
        body["details"] = details
    return body


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
        for e in exc.errors()[:50]
    ]


_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return json_response(error_body(exc.code, exc.message, exc.details), exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        if any(d["type"] == "json_invalid" for d in details):
            return json_response(
                error_body("malformed_json", "请求体不是合法的 JSON / body is not valid JSON", details), 400
            )
        return json_response(
            error_body("invalid_request", "请求参数不合法 / request is invalid", details), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = _CODES.get(exc.status_code, "http_error")
        return json_response(
            error_body(code, str(exc.detail)), exc.status_code, getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        # Only reached without RequestContext (which answers first, while the request id is still set).
        return unexpected_error(exc)


RETRY_AFTER_S = 2


def unexpected_error(exc: Exception) -> Response:
    """503 + Retry-After when a dependency is briefly away (retrying the same request is right); else 500."""
    if isinstance(exc, asyncpg.exceptions.DataError):
        # The database refused a value (untranslatable character, numeric overflow...): the request is
        # wrong, not the server; its transaction rolled back, so nothing was partly written.
        log.warning("data refused by the database: %s: %s", type(exc).__name__, exc)
        body = error_body(
            "unstorable_value", f"数据库无法存储该值 / the database cannot store a value: {exc}"
        )
        return json_response(body, 422)
    if is_unavailable(exc):
        log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
        body = error_body(
            "service_unavailable",
            f"服务暂时不可用，请 {RETRY_AFTER_S} 秒后重试 / a dependency is briefly unavailable;"
            f" retry the same request after {RETRY_AFTER_S} s",
        )
        return json_response(body, 503, {"Retry-After": str(RETRY_AFTER_S)})
    log.exception("unhandled error: %s", exc)
    return json_response(error_body("internal_error", "服务器内部错误 / internal error"), 500)


class RequestContext:
    """Correlation id and per-route metrics, as plain ASGI (no task group around the request body).

    It also answers unhandled errors itself: Starlette's catch-all handler runs in the outermost
    middleware, after this one has reset the request id ("-") and without the X-Request-Id header.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:100] or str(uuid.uuid4())
        token = correlation_id.set(rid)
        started, status, responded = time.perf_counter(), 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if responded:
                raise  # too late for an error answer; the server closes the connection
            await unexpected_error(exc)(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http_requests.labels(path, scope["method"], str(status)).inc()
            self.metrics.http_seconds.labels(path, scope["method"]).observe(time.perf_counter() - started)


class BodyTooLargeError(StarletteHTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"请求体超过 {max_bytes} 字节 / body exceeds {max_bytes} bytes")


class BodyLimit:
    """Refuse bodies over `max_bytes` as they arrive (chunked uploads too), with our JSON 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            exc = BodyTooLargeError(self.max_bytes)
            body = error_body("payload_too_large", str(exc.detail))
            await json_response(body, 413)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLargeError(self.max_bytes)  # answered by the HTTPException handler
            return message

        await self.app(scope, counting_receive, send)
