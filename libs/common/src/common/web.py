"""HTTP plumbing shared by services: JSON errors with stable codes, limits, request metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import ORJSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.logs import correlation_id

if TYPE_CHECKING:
    from starlette.responses import Response

    from common.metrics import Metrics

log = logging.getLogger(__name__)


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return ORJSONResponse(error_body(exc.code, exc.message, exc.details), exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        details = _validation_details(exc)
        if any(d["type"] == "json_invalid" for d in details):
            return ORJSONResponse(
                error_body("malformed_json", "请求体不是合法的 JSON / body is not valid JSON", details), 400
            )
        return ORJSONResponse(
            error_body("invalid_request", "请求参数不合法 / request is invalid", details), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return ORJSONResponse(
            error_body(code, str(exc.detail)), exc.status_code, getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error: %s", exc)
        return ORJSONResponse(error_body("internal_error", "服务器内部错误 / internal error"), 500)


def install_request_middleware(app: FastAPI, metrics: Metrics, max_body_bytes: int) -> None:
    """Correlation id, body-size limit before reading the body, and per-route metrics."""

    @app.middleware("http")
    async def _around(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get("x-request-id") or str(uuid.uuid4())
        token = correlation_id.set(rid[:100])
        started = time.perf_counter()
        try:
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > max_body_bytes:
                response: Response = ORJSONResponse(
                    error_body(
                        "payload_too_large",
                        f"请求体超过 {max_body_bytes} 字节 / body exceeds {max_body_bytes} bytes",
                    ),
                    413,
                )
            else:
                response = await call_next(request)
        finally:
            correlation_id.reset(token)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.http_requests.labels(path, request.method, str(response.status_code)).inc()
        metrics.http_seconds.labels(path, request.method).observe(time.perf_counter() - started)
        response.headers["x-request-id"] = rid[:100]
        return response
