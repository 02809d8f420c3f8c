"""ASGI middleware that injects transport-level faults into the emulated API (not ``/_sim/``)."""

import asyncio
import math

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from erp_simulator.api_style import ApiStyle, api_style_of
from erp_simulator.envelopes import JSON_MEDIA_TYPE, JsonResponse, asp_failure, v3
from erp_simulator.errors import AspStatus, LostReplyError, SimulatedConnectionResetError
from erp_simulator.faults import FaultConfig, RequestFault
from erp_simulator.html_pages import script_error_page, server_error_page, throttled_page
from erp_simulator.response_capture import ResponseCapture
from erp_simulator.state import SimulatorState

_THROTTLED_TEXT = "访问过于频繁，请稍后再试"
_TOKEN_HEADER = b"zbapi-token"
HTTP_TOO_MANY_REQUESTS = 429
HTTP_UNAVAILABLE = 503
V3_BUSINESS = 300
V3_SERVER_ERROR = 500


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: SimulatorState) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or api_style_of(scope["path"]) is ApiStyle.CONTROL:
            await self._app(scope, receive, send)
            return
        state, config = self._state, self._state.faults
        style = api_style_of(scope["path"])
        state.counters.requests_by_path[scope["path"]] += 1
        body = await _read_body(receive)
        if (delay := state.dice.latency_seconds(config)) > 0:
            await asyncio.sleep(delay)
        refusal = self._throttle(config, style, scope, body)
        if refusal is None:
            refusal = await self._request_fault(config, style, send)
        if refusal is not None:
            await refusal(scope, _replay(body), send)
            return
        await self._respond(config, style, scope, body, send)

    def _throttle(self, config: FaultConfig, style: ApiStyle, scope: Scope, body: bytes) -> Response | None:
        if self._state.dice.hit(
            "throttled", config.throttle_rate
        ):  # a busy server, whatever this client's rate
            self._state.counters.fault("throttled")
            return throttled_page(HTTP_TOO_MANY_REQUESTS, config.throttle_retry_after_s)
        if config.rate_limit_per_second is None:
            return None
        key = _token(scope, body) or "anonymous"
        wait = self._state.limiter.wait_needed(key, config.rate_limit_per_second)
        if wait <= 0:
            return None
        self._state.counters.fault("rate_limited")
        if config.rate_limit_mode == "envelope":
            if style is ApiStyle.V3:
                return JsonResponse(v3(V3_BUSINESS, _THROTTLED_TEXT))
            return JsonResponse(asp_failure(AspStatus.RATE_LIMITED, _THROTTLED_TEXT))
        status = HTTP_TOO_MANY_REQUESTS if config.rate_limit_mode == "http429" else HTTP_UNAVAILABLE
        return throttled_page(status, max(1, math.ceil(wait)))

    async def _request_fault(self, config: FaultConfig, style: ApiStyle, send: Send) -> Response | None:
        fault = self._state.dice.request_fault(config)
        if fault is None:
            return None
        self._state.counters.fault(fault.value)
        if fault is RequestFault.TIMEOUT:
            # Then the request runs normally: a save may land after the client gave up.
            await asyncio.sleep(config.hang_seconds)
            return None
        if fault is RequestFault.RESET:
            await _drop_connection(send)
        if fault is RequestFault.HTML_ERROR:
            return script_error_page()
        return _server_error(style)

    async def _respond(
        self, config: FaultConfig, style: ApiStyle, scope: Scope, body: bytes, send: Send
    ) -> None:
        capture = ResponseCapture()
        try:
            await self._app(scope, _replay(body), capture.send)
        except LostReplyError:
            # The save above was applied; only its answer is lost.
            if config.lost_reply_mode == "reset":
                await _drop_connection(send)
            await _server_error(style)(scope, _replay(body), send)
            return
        if capture.media_type_is(JSON_MEDIA_TYPE) and self._state.dice.hit(
            "truncated_json", config.truncated_json_rate
        ):
            self._state.counters.fault("truncated_json")
            capture.truncate()
        await capture.replay(send)


def _server_error(style: ApiStyle) -> Response:
    if style is ApiStyle.V3:
        return JsonResponse(v3(V3_SERVER_ERROR, "服务器内部错误"), status_code=V3_SERVER_ERROR)
    return server_error_page()


async def _drop_connection(send: Send) -> None:
    """Promise a body, send a piece of it, then fail: uvicorn closes the socket mid-body.

    In-process (httpx ASGITransport) the client sees this exception raised from its call.
    """
    headers = [(b"content-type", JSON_MEDIA_TYPE.encode()), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"header":{"sta', "more_body": True})
    raise SimulatedConnectionResetError("simulated connection reset")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            # Never resolves until cancelled, like a connection that stays open.
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _token(scope: Scope, body: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == _TOKEN_HEADER:
            return bytes(value).decode("latin-1")
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    token = data.get("session") if isinstance(data, dict) else None
    return token if isinstance(token, str) else None
