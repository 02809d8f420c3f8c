"""A careful HTTP client for fault scenarios: an answer it never got is "unknown", never "failed".

It retries a write with the same Idempotency-Key (or the same content, for content-hashed writes) until it gets a
definite answer, so an unknown outcome is applied 0 or 1 times and the retry tells which (DELIVERY.md §12).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRYABLE = frozenset({429, 500, 502, 503, 504})


@dataclass
class CarefulClient:
    http: httpx.AsyncClient
    headers: dict[str, str]
    deadline_s: float = 180.0
    outcomes: Counter[str] = field(default_factory=Counter)

    async def send(
        self, method: str, url: str, body: object, *, idempotent_key: bool = True
    ) -> httpx.Response:
        """Send until a non-retryable answer; counts `unknown` (transport error) and `retried` (5xx/429)."""
        headers = dict(self.headers)
        if idempotent_key:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline, delay = time.monotonic() + self.deadline_s, 0.2
        while True:
            try:
                r = await self.http.request(method, url, json=body, headers=headers, timeout=30)
            except httpx.TransportError as exc:
                self.outcomes["unknown"] += 1
                last: Any = exc
            else:
                if r.status_code not in RETRYABLE:
                    self.outcomes[f"http_{r.status_code}"] += 1
                    return r
                self.outcomes[f"retried_{r.status_code}"] += 1
                last = r.text[:300]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{method} {url}: no definite answer within {self.deadline_s}s: {last!r}"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)
