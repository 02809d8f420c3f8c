"""Which clients' tokens are revoked, as every service learns it from ingest within seconds.

Every token carries its client's token version (`ver`). Disabling or rotating a client in ingest bumps that
version, so all tokens issued before stop counting. Ingest lists the clients whose older tokens are refused
(`GET /internal/token-revocations`); each service polls that list every `poll_s` (2 s) and refuses a token whose
client is disabled or whose version is below the listed one. If the list cannot be refreshed for `max_stale_s`,
the service cannot tell a revoked token from a good one and answers 503 (fail closed) until it can again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RevokedError(Exception):
    """The token's client is disabled, or its secret was rotated after the token was issued."""


class RevocationsUnavailableError(Exception):
    """The revocation list is older than allowed: no token can be trusted until it is read again."""


@dataclass(frozen=True, slots=True)
class Revocation:
    min_version: int
    disabled: bool


def parse(document: dict[str, Any]) -> dict[str, Revocation]:
    return {
        str(c["client_id"]): Revocation(int(c["min_version"]), bool(c["disabled"]))
        for c in document["clients"]
    }


def check(revoked: dict[str, Revocation], client_id: str, version: int) -> None:
    entry = revoked.get(client_id)
    if entry is not None and entry.disabled:
        raise RevokedError("client disabled")
    if entry is not None and version < entry.min_version:
        raise RevokedError("token revoked (client secret rotated or client disabled since)")


class RevocationPoller:
    """Keeps a fresh copy of ingest's revocation list; `check` answers from it without any I/O."""

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        poll_s: float = 2.0,
        max_stale_s: float = 60.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.url, self._http, self._clock = url, http, clock
        self.poll_s, self.max_stale_s = poll_s, max_stale_s
        self._revoked: dict[str, Revocation] = {}
        self._fetched_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def age_s(self) -> float:
        """Seconds since the list was last read (infinite before the first read)."""
        return float("inf") if self._fetched_at is None else self._clock() - self._fetched_at

    def check(self, client_id: str, version: int) -> None:
        if self.age_s() > self.max_stale_s:
            raise RevocationsUnavailableError(f"token revocation list not read from {self.url}")
        check(self._revoked, client_id, version)

    async def poll_once(self) -> bool:
        try:
            r = await self._http.get(self.url, headers={"Accept": "application/json"})
            r.raise_for_status()
            revoked = parse(r.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            if not self._failing:  # one line when it starts failing, one when it recovers
                log.warning("token revocations: cannot read %s: %s", self.url, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("token revocations: %s readable again", self.url)
        self._revoked, self._fetched_at, self._failing = revoked, self._clock(), False
        return True

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="token-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
