"""Helpers of the import cases: POST a history import in batches, and wait for a count to reach a figure."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.common import admin
from tests.support.api import bearer

BATCH = 1000


async def _wait(probe: str, arg: object, want: int, timeout_s: float = 600) -> None:
    conn = await admin()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await conn.fetchval(probe, arg) >= want:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{probe} did not reach {want}")
    finally:
        await conn.close()


async def http_import(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    rows: list[dict[str, object]],
    rows_per_s: float | None = None,
) -> float:
    """POST in batches of 1 000; with `rows_per_s`, paced open-loop at that rate."""
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        if rows_per_s:
            await asyncio.sleep(max(0.0, started + i / rows_per_s - time.perf_counter()))
        r = await http.post(
            f"{url}/sync/contracts/batch",
            json={"contracts": rows[i : i + BATCH], "overwrite": True},
            headers=bearer(token),
        )
        r.raise_for_status()
    return time.perf_counter() - started
