"""`make bench [CASE=G7,G6b]`: same-run ratios as interleaved pairs against hand-written baselines (BENCHMARKS.md).

    CASE=G6b,G6,G7,G7-import,G3,G4,G5,G9,G1,G2 (default: these; G5 and G9 come from the same runs)
    CASE=E2E: history import lines/s, median of BENCH_E2E_RUNS=3   CASE=legacy: A1, ERP (single shots, not yet paired)
    BENCH_PAIRS=5   BENCH_PROGRESS=100 reports per side per pair at BENCH_RATE=20/s
    BENCH_IMPORT_RATE=600 rows/s for G7-import (half of transform's measured capacity)
Writes bench/results.json (the previous one moves to bench/results.prev.json; `make bench-compare`).
Not part of `make test`: nothing here asserts on speed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

from bench.baselines.raw_proc import raw_service
from bench.cases import consume_apply, e2e_import, materialise, paired, transform_cpu, transport
from bench.common import admin, environment, forget_bench_lines, shipped_service
from bench.stats import PairedRatio
from tests.support.api import create_client, login
from tests.support.stack import ROOT

RESULTS = ROOT / "bench" / "results.json"
PREVIOUS = ROOT / "bench" / "results.prev.json"
Case = Callable[[paired.Ctx], Awaitable[list[PairedRatio]]]


def _one(case: Callable[[paired.Ctx], Awaitable[PairedRatio]]) -> Case:
    async def run(ctx: paired.Ctx) -> list[PairedRatio]:
        return [await case(ctx)]

    return run


_G5_G9: Case = consume_apply.g5_g9  # one set of runs gives both
CASES: dict[str, Case] = {
    "G6b": _one(paired.g6b),
    "G6": _one(paired.g6),
    "G7": _one(paired.g7_idle),
    "G7-import": _one(paired.g7_import),
    "G3": _one(lambda ctx: transform_cpu.g3(ctx.pairs)),
    "G4": _one(lambda ctx: materialise.g4(ctx.pairs)),
    "G5": _G5_G9,
    "G9": _G5_G9,
    "G1": _one(lambda ctx: transport.g1(ctx.pairs)),
    "G2": _one(lambda ctx: transport.g2(ctx.pairs)),
}


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"\n{'id':<10} {'median':>7} {'min':>6} {'max':>6}  {'target':>6} {'floor':>6}  verdict        ours / baseline"
    ]
    for r in rows:
        lines.append(
            f"{r['id']:<10} {r['ratio_median']:7.2f} {r['ratio_min']:6.2f} {r['ratio_max']:6.2f}  "
            f"{r['target']:6.2f} {r['floor']:6.2f}  {r['verdict']:<13}  "
            f"{r['ours_median']:,.1f} / {r['baseline_median']:,.1f} {r['unit']} (medians, {r['pairs']} pairs)  {r['what']}"
        )
    return "\n".join(lines) + "\n"


async def paired_cases(names: list[str], pairs: int) -> dict[str, Any]:
    services = {name: shipped_service(name).start() for name in ("ingest", "transform", "transform-progress")}
    rows: list[dict[str, Any]] = []
    try:
        conn = await admin()
        async with httpx.AsyncClient(timeout=300) as http, raw_service() as raw:
            token = await login(http, services["ingest"].url, *await create_client(conn))
            ctx = paired.Ctx(http, services, token, raw, pairs)
            done: set[int] = set()
            for name in names:
                if name == "E2E":
                    sys.stdout.write("E2E …\n")
                    ctx.figures["E2E"] = await e2e_import.e2e(ctx)
                elif id(CASES[name]) not in done:
                    done.add(id(CASES[name]))
                    sys.stdout.write(f"{name} …\n")
                    rows.extend(r.as_json() for r in await CASES[name](ctx))
        await conn.close()
    finally:
        for proc in services.values():
            proc.stop()
        await forget_bench_lines()
    return {"ratios": rows, "figures": ctx.figures}


async def main() -> None:
    names = [n.strip() for n in os.environ.get("CASE", "").split(",") if n.strip()] or list(CASES)
    if names == ["legacy"]:
        from bench import legacy

        await legacy.main()
        return
    unknown = [n for n in names if n not in CASES and n != "E2E"]
    if unknown:
        raise SystemExit(f"unknown CASE {unknown}; known: {', '.join(CASES)}, legacy")
    body = {
        "environment": environment(),
        **await paired_cases(names, int(os.environ.get("BENCH_PAIRS", "5"))),
    }
    sys.stdout.write(table(body["ratios"]))
    sys.stdout.write("figures: " + orjson.dumps(body["figures"], option=orjson.OPT_INDENT_2).decode() + "\n")
    if RESULTS.exists():
        PREVIOUS.write_bytes(RESULTS.read_bytes())
    RESULTS.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    sys.stdout.write(
        "written to bench/results.json (absolute figures: a loaded 2-core machine; judge ratios)\n"
    )


if __name__ == "__main__":
    asyncio.run(main())
