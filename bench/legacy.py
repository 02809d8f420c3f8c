"""`make bench CASE=legacy`: the older single-shot cases (A1, ERP), one measurement each, not yet paired.

    BENCH_ROWS=50000 (default; CI mode: 10000)
Not part of `make test`: nothing here asserts on speed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import os
import sys

import orjson

from bench.cases import agent_import
from bench.common import OUT, Report, environment, forget_bench_lines, shipped_service

ROWS = int(os.environ.get("BENCH_ROWS", "50000"))


async def _erp(report: Report) -> None:
    """The ERP push/pull case lives with the connector's work; run it when it is there."""
    if importlib.util.find_spec("bench.cases.erp_sync") is None:
        report.figures["erp_sync"] = "not run: bench/cases/erp_sync.py is missing"
        return
    erp_sync = importlib.import_module("bench.cases.erp_sync")
    report.figures["erp_sync"] = await erp_sync.run()


def _print(report: Report) -> None:
    out = sys.stdout.write
    out(f"\n{'id':<10} {'ratio':>7}  {'target':>7} {'floor':>6}  verdict        ours / baseline\n")
    for r in report.ratios:
        out(
            f"{r.gid:<10} {r.value:7.2f}  {r.target:7.2f} {r.floor:6.2f}  {r.verdict:<13}  "
            f"{r.ours:,.1f} / {r.baseline:,.1f} {r.unit}   {r.what}\n"
        )
    out("\nfigures: " + orjson.dumps(report.figures, option=orjson.OPT_INDENT_2).decode() + "\n")


async def main() -> None:
    report = Report(figures={"environment": environment()})
    ingest = shipped_service("ingest").start()
    try:
        await _erp(report)
        await agent_import.run(report, ingest, n=ROWS, pairs=int(os.environ.get("BENCH_PAIRS", "5")))
    finally:
        ingest.stop()
        await forget_bench_lines()
    _print(report)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"report-{report.figures['environment']['at'].replace(':', '')}.json"
    body = {
        "ratios": [{**dataclasses.asdict(r), "ratio": r.value, "verdict": r.verdict} for r in report.ratios],
        "figures": report.figures,
    }
    path.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    sys.stdout.write(f"report written to {path.relative_to(OUT.parent.parent)}\n")


if __name__ == "__main__":
    asyncio.run(main())
