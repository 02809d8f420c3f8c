"""One HTTP exchange with the ERP: rate limit, breaker, deadline, size cap, classification, logging.

Nothing here retries. Retries live in one layer only, the pull and push services (DELIVERY.md §10).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from erp_connector.domain.breaker import CircuitBreaker
from erp_connector.domain.classify import (
    DEFAULT_VOCABULARY,
    Vocabulary,
    asp_error,
    http_error,
    parse_json,
    v3_error,
)
from erp_connector.domain.errors import (
    AuthError,
    BusinessError,
    CaptchaRequiredError,
    CircuitOpenError,
    ErpError,
    SessionExpiredError,
    TransientError,
)
from erp_connector.domain.rate_limit import TokenBucket

# Fields never copied into a call summary, whatever the operation.
SECRET_FIELDS = frozenset({"password", "session", "rndcode", "serialnum", "token"})
THROTTLE_PAUSE_S = 1.0  # an in-envelope "too frequent" gives no Retry-After; wait this long


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What one ERP call did, for metrics and erp_api_logs (summaries carry no secrets)."""

    operation: str
    path: str
    outcome: str
    duration_s: float
    http_status: int | None = None
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)


CallObserver = Callable[[CallRecord], None]


def outcome_of(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, CaptchaRequiredError):
        return "captcha"
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, SessionExpiredError):
        return "session"
    if isinstance(exc, BusinessError):
        return "business"
    if isinstance(exc, CircuitOpenError):
        return "circuit_open"
    if isinstance(exc, TransientError):
        if exc.throttled:
            return "throttled"
        return "timeout" if exc.message.startswith("timeout") else "transient"
    return "error"


def request_summary(body: Mapping[str, Any]) -> dict[str, Any]:
    datas = body.get("datas")
    summary: dict[str, Any] = {}
    if isinstance(datas, list):
        summary["datas"] = {
            str(d.get("id")): d.get("val")
            for d in datas
            if isinstance(d, Mapping) and str(d.get("id")) not in SECRET_FIELDS
        }
    else:
        summary.update({k: v for k, v in body.items() if k not in SECRET_FIELDS})
    if body.get("cmdkey"):
        summary["cmdkey"] = body["cmdkey"]
    return summary


def response_summary(envelope: Mapping[str, Any]) -> dict[str, Any]:
    header = envelope.get("header")
    if isinstance(header, Mapping):
        summary: dict[str, Any] = {"status": header.get("status"), "message": header.get("message")}
    else:
        summary = {"Code": envelope.get("Code"), "Msg": envelope.get("Msg")}
    body = envelope.get("body")
    source = body.get("source") if isinstance(body, Mapping) else envelope.get("source")
    table = source.get("table") if isinstance(source, Mapping) else None
    if isinstance(table, Mapping):
        rows = table.get("rows")
        summary["rows"] = len(rows) if isinstance(rows, list) else None
        summary["pagecount"] = (table.get("page") or {}).get("pagecount")
    bill = body.get("bill") if isinstance(body, Mapping) else None
    if isinstance(bill, Mapping):
        summary["ord"] = bill.get("value")
    return summary


class ErpTransport:
    def __init__(
        self,
        http: httpx.AsyncClient,
        limiter: TokenBucket,
        breaker: CircuitBreaker,
        *,
        call_timeout_s: float,
        max_response_bytes: int,
        observer: CallObserver | None = None,
        vocabulary: Vocabulary = DEFAULT_VOCABULARY,
    ) -> None:
        self._http, self.limiter, self.breaker = http, limiter, breaker
        self._timeout, self._max_bytes = call_timeout_s, max_response_bytes
        self._observe = observer or (lambda _record: None)
        self.vocabulary = vocabulary

    async def asp(
        self, operation: str, path: str, body: Mapping[str, Any], *, login: bool = False
    ) -> dict[str, Any]:
        """ASP style: token in the body, answer `{header: {status, message}, body}`."""

        def check(envelope: dict[str, Any]) -> ErpError | None:
            return asp_error(envelope, login=login, vocabulary=self.vocabulary)

        return await self._call(operation, path, body, None, check)

    async def v3(self, operation: str, path: str, token: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """V3 style: `ZBAPI-Token` header, answer `{Code, Msg, Data}`."""

        def check(envelope: dict[str, Any]) -> ErpError | None:
            return v3_error(envelope, vocabulary=self.vocabulary)

        return await self._call(operation, path, body, {"ZBAPI-Token": token}, check)

    async def _call(
        self,
        operation: str,
        path: str,
        body: Mapping[str, Any],
        headers: Mapping[str, str] | None,
        check: Callable[[dict[str, Any]], ErpError | None],
    ) -> dict[str, Any]:
        await self._wait_for_token()
        started = time.perf_counter()
        status: int | None = None
        envelope: dict[str, Any] = {}
        error: ErpError | None = None
        try:
            ticket = self.breaker.before_call()
        except CircuitOpenError as exc:
            self._record(operation, path, body, exc, started, None, {})
            raise
        try:
            status, reply_headers, raw = await self._exchange(path, body, headers)
            error = http_error(status, reply_headers)
            if error is None:
                envelope = parse_json(raw)
                error = check(envelope)
        except ErpError as exc:
            error = exc
        self._account(ticket, error)
        self._record(operation, path, body, error, started, status, envelope)
        if error is not None:
            raise error
        return envelope

    async def _wait_for_token(self) -> None:
        delay = self.limiter.reserve()
        while delay > 0:
            await asyncio.sleep(delay)
            delay = self.limiter.blocked_for()

    async def _exchange(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str] | None
    ) -> tuple[int, httpx.Headers, bytes]:
        try:
            async with asyncio.timeout(self._timeout):
                request = self._http.build_request("POST", path, json=body, headers=headers)
                response = await self._http.send(request, stream=True)
                try:
                    raw = await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise TransientError(f"timeout after {self._timeout:.1f}s") from exc
        except httpx.TimeoutException as exc:
            raise TransientError(f"timeout: {type(exc).__name__}") from exc
        except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            raise TransientError(f"cannot connect: {exc}", maybe_applied=False) from exc
        except (httpx.HTTPError, OSError) as exc:
            # Reset or truncated mid-reply: the request may have been applied.
            raise TransientError(f"connection failed: {type(exc).__name__}: {exc}") from exc
        return response.status_code, response.headers, raw

    async def _read_capped(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise TransientError(
                    f"response over {self._max_bytes} bytes", http_status=response.status_code
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _account(self, ticket: int, error: ErpError | None) -> None:
        if isinstance(error, TransientError) and error.throttled:
            # Slowing down is the limiter's job, not the breaker's: nobody sends before the server allows.
            self.limiter.block_for(error.retry_after if error.retry_after is not None else THROTTLE_PAUSE_S)
        elif isinstance(error, TransientError):
            self.breaker.failure(ticket)
        else:
            self.breaker.success(ticket)  # the ERP answered, even if it said no

    def _record(
        self,
        operation: str,
        path: str,
        body: Mapping[str, Any],
        error: ErpError | None,
        started: float,
        status: int | None,
        envelope: Mapping[str, Any],
    ) -> None:
        self._observe(
            CallRecord(
                operation=operation,
                path=path.split("?", 1)[0],
                outcome=outcome_of(error),
                duration_s=time.perf_counter() - started,
                http_status=status,
                error=f"{type(error).__name__}: {error.message}"[:500] if error else None,
                request=request_summary(body),
                response=response_summary(envelope) if envelope else {},
            )
        )
