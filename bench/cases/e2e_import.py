"""E2E: a history import, first POST → last line readable in transform, lines/s (absolute; median of BENCH_E2E_RUNS).

Everything runs (ingest, relay, transform, transform-progress), batches of 1 000 lines posted back to back as the
agent does; readable = the line's product row exists (what the contract queries read).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench.cases.import_e2e import http_import, wait_readable
from bench.cases.paired import Ctx
from bench.common import bench_prefix
from tests.support.generate import contract_rows


async def e2e(ctx: Ctx) -> dict[str, Any]:
    n, runs = int(os.environ.get("BENCH_ROWS", "50000")), int(os.environ.get("BENCH_E2E_RUNS", "3"))
    rates = []
    for i in range(runs):
        prefix = bench_prefix("E2")
        rows = contract_rows(n, seed=11 + i, prefix=prefix)
        started = time.perf_counter()
        await http_import(ctx.http, ctx.services["ingest"].url, ctx.token, rows)
        await wait_readable(prefix, n)
        rates.append(n / (time.perf_counter() - started))
        print(f"  E2E run {i + 1}/{runs}: {rates[-1]:,.0f} lines/s")
    return {
        "lines": n,
        "runs_lines_per_s": [round(r) for r in rates],
        "median_lines_per_s": round(statistics.median(rates)),
    }
