"""The cloud API over HTTP: login, re-login on 401, Retry-After on 429, backoff on 5xx and timeouts."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from rollsync_agent.config import CloudApi

log = logging.getLogger("rollsync_agent.cloud")
MAX_RETRY_AFTER_S = 120.0


class CloudError(RuntimeError):
    """A call failed; `message` is one line for the clerk."""


class AuthFailedError(CloudError):
    pass


class CloudUnavailableError(CloudError):
    pass


class CloudRefusedError(CloudError):
    """A 4xx other than 401/429: the request itself is wrong (a bug or a too-big batch), retrying won't help."""

    def __init__(self, message: str, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def idempotency_key(client_id: str, body: bytes, context: str) -> str:
    """Same batch on the same known state -> same key, so a retry after a lost reply never applies twice."""
    digest = hashlib.sha256(client_id.encode() + b"\0" + context.encode() + b"\0" + body).hexdigest()
    return f"agent-{digest[:56]}"


class CloudClient:
    def __init__(
        self,
        api: CloudApi,
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.requests = 0  # every HTTP request sent, logins included (tests count echo uploads with it)
        self._token: str | None = None
        self._http = httpx.Client(
            base_url=api.base_url.rstrip("/"), timeout=api.timeout_s, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def login(self) -> None:
        body = {
            "client_id": self.api.client_id,
            "client_secret": self.api.client_secret,
            "grant_type": "client_credentials",
        }
        r = self._send("POST", "/auth/system-login", json=body)
        if r.status_code in (400, 401, 403):
            raise AuthFailedError(
                f"the cloud refused clientId/clientSecret ({_code(r)}): check SyncConfig.json"
            )
        if r.status_code == 599:
            raise CloudUnavailableError(f"cannot reach the cloud: {_message(r)}")
        if r.status_code != 200:
            raise CloudUnavailableError(f"login answered HTTP {r.status_code} ({_code(r)})")
        self._token = str(r.json()["access_token"])

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One logical call; transient failures are retried here a few times, then CloudUnavailableError."""
        relogged, last = False, ""
        for attempt in range(1, self.attempts + 1):
            if self._token is None:
                self.login()
            headers = {**kwargs.get("headers", {}), "Authorization": f"Bearer {self._token}"}
            r = self._send(method, path, **{**kwargs, "headers": headers})
            if r.status_code == 401 and not relogged:
                self._token, relogged = None, True  # expired token: log in again, once
                continue
            if r.status_code == 429 and _code(r) == "daily_row_limit":
                # The quota renews at the China-day midnight: retrying within this round cannot help.
                raise CloudRefusedError(
                    f"daily_row_limit: {_message(r)}; renews in {r.headers.get('Retry-After', '?')} s",
                    429,
                    "daily_row_limit",
                )
            if r.status_code == 429 or r.status_code >= 500:
                last = _code(r) if r.status_code != 599 else f"unreachable: {_message(r)}"
                self._wait(r, attempt)
                continue
            return _checked(r)
        raise CloudUnavailableError(f"{method} {path}: failed {self.attempts} attempts (last: {last})")

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.requests += 1
        try:
            return self._http.request(method, path, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            return httpx.Response(
                599, json={"code": "unreachable", "message": f"{type(exc).__name__}: {exc}"}
            )

    def _wait(self, r: httpx.Response, attempt: int) -> None:
        if attempt == self.attempts:
            return
        delay = self.backoff_s * 2 ** (attempt - 1)
        if r.status_code == 429:
            delay = min(float(r.headers.get("Retry-After") or delay), MAX_RETRY_AFTER_S)
        log.warning("cloud answered %s (%s); retrying in %.1fs", r.status_code, _code(r), delay)
        self.sleep(delay)


def _code(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.reason_phrase or str(r.status_code)
    return str(body.get("code") or body.get("message") or r.status_code) if isinstance(body, dict) else ""


def _message(r: httpx.Response) -> str:
    return str(r.json().get("message", ""))


def _checked(r: httpx.Response) -> httpx.Response:
    if r.status_code == 401:
        raise AuthFailedError(f"the cloud refused our token twice ({_code(r)})")
    if r.status_code == 403:
        raise AuthFailedError(f"this client lacks the scope for {r.request.url.path} ({_code(r)})")
    if r.status_code >= 400:
        message = f"{r.request.method} {r.request.url.path}: HTTP {r.status_code} {_code(r)}"
        raise CloudRefusedError(message, r.status_code, _code(r))
    return r
