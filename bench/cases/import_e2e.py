"""Helpers of the import cases: POST a history import in batches, and wait for a count to reach a figure."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx

from bench.common import admin
from tests.support.api import bearer

BATCH = 1000

# Readable = the line's products row exists. A range on the primary key's leading column, not LIKE: LIKE cannot
# use that index under the database's C.UTF-8 collation, and counting a table that grows with every run by a
# sequential scan, several times a second, was PostgreSQL CPU billed to the case (seen in pg_stat_statements).
_READABLE = (
    "SELECT count(*) FROM transform.products WHERE contract_no >= $1 AND contract_no < $2"
    " AND starts_with(contract_no, $1)"
)


async def count_readable(conn: asyncpg.Connection, prefix: str) -> int:
    """Lines of this run (contract numbers starting with `prefix`) that transform has materialised."""
    return int(await conn.fetchval(_READABLE, prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))


async def wait_readable(prefix: str, n: int, timeout_s: float = 600) -> None:
    conn = await admin()
    try:
        deadline = time.monotonic() + timeout_s
        while await count_readable(conn, prefix) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n} lines {prefix}* not readable after {timeout_s:.0f} s")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


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
