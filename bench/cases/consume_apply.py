"""G5 and G9 from the same interleaved runs: transform consuming a published history import, against the raw
pipeline on the same envelopes. G5 is lines/s of wall time; G9 is CPU milliseconds per 1 000 lines.

- ours (A): the transform service process applying a history import that ingest published while it was stopped
  (as G5 does): CPU of the transform process plus every PostgreSQL process, sampled with psutil between the
  first and the last line readable (`transform.products`), divided by the lines applied in between; the wall time
  between the same two samples gives G5's lines/s. Its relay
  also publishes the `ContractStandardized` events: part of what our process does per line.
- raw (B): `bench/baselines/raw_pipeline.py` (aiokafka getmany → orjson → the same mapping and statements, inbox
  included, no framework, no relay) on the same published envelopes, in this process: CPU of this process plus
  every PostgreSQL process from its first record to its last commit, and the wall time over the same span.
For G9 lower is better; CPU is what throughput hides when the load generator or a neighbour is the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import psutil  # type: ignore[import-untyped]

from bench.baselines import raw_pipeline, raw_produce
from bench.cases.import_e2e import _wait, count_readable, http_import
from bench.common import admin, bench_prefix, shipped_service
from bench.cpu import cpu_seconds, postgres_cpu_seconds
from bench.pairs import interleaved_each
from bench.stats import Goal, PairedRatio
from tests.support.generate import contract_rows

if TYPE_CHECKING:
    from bench.cases.paired import Ctx

G5 = Goal("G5", "transform consume → commit ÷ raw aiokafka → orjson → same statements", "rows/s", 0.80, 0.60)
G9 = Goal(
    "G9", "CPU ms per 1 000 lines: transform + PostgreSQL ÷ raw pipeline + PostgreSQL", "ms", 1.5, 2.0, False
)


async def _published(ctx: Ctx, n: int) -> tuple[str, list[bytes]]:
    """Stop transform, import n lines through ingest and wait until its relay has published them all."""
    ctx.services["transform"].stop()
    prefix = bench_prefix("G9")
    await http_import(
        ctx.http, ctx.services["ingest"].url, ctx.token, contract_rows(n, seed=9, prefix=prefix)
    )
    await _wait(
        "SELECT count(*) FROM ingest.outbox WHERE key LIKE $1 AND sent_at IS NOT NULL", prefix + "%", n
    )
    conn = await admin()
    try:
        rows = await conn.fetch(
            "SELECT payload FROM ingest.outbox WHERE key LIKE $1 ORDER BY created_at, id", prefix + "%"
        )
    finally:
        await conn.close()
    return prefix, [bytes(r["payload"]) for r in rows]


async def _ours(ctx: Ctx, n: int) -> tuple[float, float]:
    prefix, _ = await _published(ctx, n)
    service = shipped_service("transform").start()
    ctx.services["transform"] = service
    assert service.proc is not None
    procs = [psutil.Process(service.proc.pid)]
    conn = await admin()
    try:
        first: tuple[int, float, float] | None = None
        while True:
            count = await count_readable(conn, prefix)
            cpu, wall = cpu_seconds(procs) + postgres_cpu_seconds(), time.perf_counter()
            if count and first is None:
                first = (count, cpu, wall)
            if count >= n:
                break
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    assert first is not None
    if count == first[0]:
        raise RuntimeError("G5/G9: every line was applied before the first sample")
    lines = count - first[0]
    return lines / (wall - first[2]), 1000 * 1000 * (cpu - first[1]) / lines


async def _raw(payloads: list[bytes]) -> tuple[float, float]:
    topic = await raw_produce.fresh_topic()
    me = psutil.Process()
    try:
        await raw_produce.produce(topic, [(b"k%d" % i, p) for i, p in enumerate(payloads)])

        def cpu_clock() -> float:
            return cpu_seconds([me]) + postgres_cpu_seconds()

        rates = await raw_pipeline.run(topic, len(payloads), cpu_clock=cpu_clock)
        return rates.rows_per_s, 1000 * 1000 / rates.rows_per_cpu_s
    finally:
        await raw_produce.delete_topic(topic)


async def g5_g9(ctx: Ctx, n: int = 5_000) -> list[PairedRatio]:
    payloads: list[bytes] = []

    async def ours() -> tuple[float, float]:
        return await _ours(ctx, n)

    async def raw() -> tuple[float, float]:
        if not payloads:
            payloads.extend((await _published(ctx, n))[1])
            ctx.services["transform"] = shipped_service("transform").start()
        return await _raw(payloads)

    started = time.perf_counter()
    results = await interleaved_each(
        (G5, G9),
        ours,
        raw,
        ctx.pairs,
        notes=f"{n} lines per side per pair; G9: CPU of the consumer process + PostgreSQL",
    )
    ctx.figures["G5-G9-seconds"] = round(time.perf_counter() - started, 1)
    return results
