"""The cases measured as interleaved pairs against the hand-written service: G6, G6b, G7 idle and under import."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.baselines.raw_proc import RawService
from bench.cases import progress_latency as g7
from bench.cases.import_e2e import BATCH, wait_readable
from bench.common import bench_prefix
from bench.pairs import interleaved
from bench.stats import Goal, PairedRatio, latency_summary, new_histogram
from tests.support.api import bearer
from tests.support.generate import contract_rows
from tests.support.stack import ServiceProcess

PROGRESS = int(os.environ.get("BENCH_PROGRESS", "100"))
RATE = float(os.environ.get("BENCH_RATE", "20"))


@dataclass
class Ctx:
    http: httpx.AsyncClient
    services: dict[str, ServiceProcess]
    token: str
    raw: RawService
    pairs: int
    figures: dict[str, Any] = field(default_factory=dict)


G6B = Goal("G6b", "one 10 000-row POST ÷ hand-written endpoint, same writes", "rows/s", 0.70, 0.50)
G6 = Goal("G6", "single-contract POST ÷ authenticated no-op endpoint", "req/s", 0.40, 0.25)
G7 = Goal(
    "G7", "report → seen in the feed by a polling client, p99 ÷ raw chain p99, idle", "ms", 2.0, 3.0, False
)
G7I = Goal(
    "G7-import",
    "same, while a history import runs through ingest + transform (same load for A and B)",
    "ms",
    3.0,
    5.0,
    False,
)


def _body(n: int, seed: int) -> bytes:
    rows = contract_rows(n, seed=seed, prefix=bench_prefix("B", 7))
    return orjson.dumps({"contracts": rows, "overwrite": True})


async def _post_rows(ctx: Ctx, url: str, n: int) -> float:
    body = _body(n, seed=n)
    headers = {
        **bearer(ctx.token if "/raw/" not in url else ctx.raw.token),
        "Idempotency-Key": uuid.uuid4().hex,
    }
    headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    r = await ctx.http.post(url, content=body, headers=headers)
    took = time.perf_counter() - started
    r.raise_for_status()
    assert r.json()["accepted"] == n, r.text[:300]
    return n / took


async def g6b(ctx: Ctx) -> PairedRatio:
    ingest = ctx.services["ingest"].url
    return await interleaved(
        G6B,
        lambda: _post_rows(ctx, f"{ingest}/sync/contracts/batch", 10_000),
        lambda: _post_rows(ctx, f"{ctx.raw.url}/raw/batch", 10_000),
        ctx.pairs,
    )


async def _rate(ctx: Ctx, url: str, token: str, requests: int = 300, workers: int = 8) -> float:
    bodies = [_body(1, seed=i) for i in range(requests)] if "batch" in url else [b""] * requests
    queue = iter(bodies)

    async def worker() -> None:
        for body in queue:
            if body:
                r = await ctx.http.post(
                    url, content=body, headers={**bearer(token), "Content-Type": "application/json"}
                )
            else:
                r = await ctx.http.get(url, headers=bearer(token))
            r.raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return requests / (time.perf_counter() - started)


async def g6(ctx: Ctx) -> PairedRatio:
    ingest = ctx.services["ingest"].url
    return await interleaved(
        G6,
        lambda: _rate(ctx, f"{ingest}/sync/contracts/batch", ctx.token),
        lambda: _rate(ctx, f"{ctx.raw.url}/noop", ctx.raw.token),
        ctx.pairs,
        notes="8 concurrent httpx clients, 300 requests per side per pair",
    )


async def _progress_contracts(ctx: Ctx) -> list[str]:
    """Lines the reports can name: 200 imported lines, readable in transform before the clock starts."""
    prefix = bench_prefix("BP")
    rows = contract_rows(200, seed=5, prefix=prefix)
    r = await ctx.http.post(
        f"{ctx.services['ingest'].url}/sync/contracts/batch",
        json={"contracts": rows, "overwrite": True},
        headers=bearer(ctx.token),
    )
    r.raise_for_status()
    await wait_readable(prefix, 200)
    return sorted({str(row["合同编号"]) for row in rows})


async def _g7_pairs(ctx: Ctx, goal: Goal, contracts: list[str]) -> PairedRatio:
    transform, ingest = ctx.services["transform-progress"].url, ctx.services["ingest"].url
    ours_hist, raw_hist = new_histogram(), new_histogram()
    ours_poll = g7.FeedPoller(
        ctx.http,
        f"{transform}/sync/pending-updates",
        ctx.token,
        await g7.cursor_now(ctx.http, transform, ctx.token),
    )
    raw_poll = g7.FeedPoller(ctx.http, f"{ctx.raw.url}/raw/feed", ctx.raw.token, 0)
    ours_send = g7.ours_sender(ctx.http, ingest, ctx.token, contracts)
    raw_send = g7.raw_sender(ctx.http, ctx.raw.url, ctx.raw.token, contracts)
    result = await interleaved(
        goal,
        lambda: g7.open_loop(ours_poll, PROGRESS, RATE, ours_send, ours_hist),
        lambda: g7.open_loop(raw_poll, PROGRESS, RATE, raw_send, raw_hist),
        ctx.pairs,
        notes=f"{PROGRESS} reports per side per pair at {RATE}/s, poll every {g7.POLL_S * 1000:.0f} ms",
    )
    ctx.figures[goal.gid] = {
        "ours_all_pairs": latency_summary(ours_hist),
        "raw_all_pairs": latency_summary(raw_hist),
    }
    return result


async def g7_idle(ctx: Ctx) -> PairedRatio:
    return await _g7_pairs(ctx, G7, await _progress_contracts(ctx))


async def _background_import(ctx: Ctx, url: str, token: str, rows_per_s: float, stop: asyncio.Event) -> int:
    """Paced open loop at `rows_per_s`, fresh lines every batch, until stopped."""
    started, sent = time.perf_counter(), 0
    while not stop.is_set():
        body = _body(BATCH, seed=sent)
        await asyncio.sleep(max(0.0, started + sent / rows_per_s - time.perf_counter()))
        r = await ctx.http.post(
            url, content=body, headers={**bearer(token), "Content-Type": "application/json"}
        )
        r.raise_for_status()
        sent += BATCH
    return sent


async def g7_import(ctx: Ctx) -> PairedRatio:
    """Both sides measured while one history import runs through ingest and transform at half capacity: the same
    machine load for A and B; only ours has the import's transactions in its feed's visibility horizon."""
    contracts = await _progress_contracts(ctx)
    rate = float(os.environ.get("BENCH_IMPORT_RATE", "0")) or ctx.figures.get("half_capacity", 600.0)
    ctx.figures["G7-import-rows-per-s"] = rate
    stop = asyncio.Event()
    ingest = f"{ctx.services['ingest'].url}/sync/contracts/batch"
    importing = asyncio.create_task(_background_import(ctx, ingest, ctx.token, rate, stop))
    try:
        await asyncio.sleep(2)
        return await _g7_pairs(ctx, G7I, contracts)
    finally:
        stop.set()
        ctx.figures["G7-import-rows-sent"] = await importing
