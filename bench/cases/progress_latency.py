"""G7: a progress report until a client polling the feed with its cursor sees it, on both sides.

Ours: PUT /sync/contracts/{合同编号}/progress on ingest → outbox → relay → Kafka → transform-progress →
GET /sync/pending-updates?since=<cursor> on transform. Raw: the hand-written service (raw_service.py) does an
authenticated PUT with one durable write and an acks=all produce, a consumer writes the feed row, and the same
poller reads GET /raw/feed?since=<cursor>. Open loop: latency runs from each report's intended send time, so a
stall cannot hide (coordinated omission); both pollers poll every POLL_S.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from bench.stats import p99_ms, record_seconds
from tests.support.api import bearer

POLL_S = 0.005
Send = Callable[[str, int], Coroutine[Any, Any, None]]


class FeedPoller:
    """A client reading a feed from its cursor, noting when each `updated_by` first appears."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str, cursor: str | int | None) -> None:
        self.http, self.url, self.auth, self.cursor = http, url, bearer(token), cursor
        self.seen: dict[str, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            params = {"limit": 500} | ({"since": self.cursor} if self.cursor is not None else {})
            r = await self.http.get(self.url, params=params, headers=self.auth)
            r.raise_for_status()
            page, at = r.json(), time.perf_counter()
            for item in page["contracts"]:
                self.seen.setdefault(str(item["updated_by"]), at)
            self.cursor = page["next_cursor"]
            if not page.get("has_more"):
                await asyncio.sleep(POLL_S)


async def open_loop(
    poller: FeedPoller, count: int, rate: float, send: Send, hist: HdrHistogram, timeout_s: float = 60
) -> float:
    """Fire `count` reports at fixed intended times; the p99 (ms) of intended time → seen by the poller."""
    stop = asyncio.Event()
    polling = asyncio.create_task(poller.run(stop))
    intended: dict[str, float] = {}
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    for i in range(count):
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        key = f"b{uuid.uuid4().hex[:12]}"
        intended[key] = at
        tasks.append(asyncio.create_task(send(key, i)))
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + timeout_s
    while any(k not in poller.seen for k in intended) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    stop.set()
    await polling
    missing = [k for k in intended if k not in poller.seen]
    if missing:
        raise RuntimeError(f"{len(missing)} progress reports never reached the feed")
    latencies = [poller.seen[k] - t for k, t in intended.items()]
    record_seconds(hist, latencies)
    return p99_ms(latencies)


def ours_sender(http: httpx.AsyncClient, ingest: str, token: str, contracts: list[str]) -> Send:
    async def send(key: str, i: int) -> None:
        body = {
            "检验": "进行中" if i % 2 else "待检",
            "updated_by": key,
            "update_time": datetime.now(UTC).isoformat(),
        }
        r = await http.put(
            f"{ingest}/sync/contracts/{contracts[i % len(contracts)]}/progress",
            json=body,
            headers=bearer(token),
        )
        r.raise_for_status()

    return send


def raw_sender(http: httpx.AsyncClient, raw: str, token: str, contracts: list[str]) -> Send:
    async def send(key: str, i: int) -> None:
        body = {"status": "进行中" if i % 2 else "待检", "updated_by": key}
        r = await http.put(
            f"{raw}/raw/progress/{contracts[i % len(contracts)]}", json=body, headers=bearer(token)
        )
        r.raise_for_status()

    return send


async def cursor_now(http: httpx.AsyncClient, transform: str, token: str) -> str:
    r = await http.get(
        f"{transform}/sync/pending-updates", params={"since": "2100-01-01T00:00:00Z"}, headers=bearer(token)
    )
    r.raise_for_status()
    return str(r.json()["next_cursor"])
