"""`make bench-profile`: where the time of one imported line goes (issue 12's profile, before/after).

Starts ingest, transform and transform-progress, imports a warm-up batch, then imports BENCH_ROWS (10 000) lines
through `POST /sync/contracts/batch` (batches of 1 000, as the agent does) while py-spy samples ingest and
transform (on-CPU samples, 100/s) and psutil reads the CPU time of every process involved: ingest, transform,
PostgreSQL (all its processes) and the Kafka broker. Prints, per imported line, the CPU milliseconds of each and
the share of each service's samples spent in the main parts of its path; the raw py-spy stacks are kept under
bench/out/ for a flame graph.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from bench.cases.import_e2e import http_import, wait_readable
from bench.common import OUT, admin, bench_prefix, forget_bench_lines, shipped_service
from bench.cpu import cpu_seconds, pids_listening, postgres_cpu_seconds
from tests.support.api import create_client, login
from tests.support.generate import contract_rows
from tests.support.stack import KAFKA_BOOTSTRAP, ROOT

PY_SPY = str(ROOT / ".venv" / "bin" / "py-spy")

# Function names (as py-spy prints them) whose inclusive share of a service's samples is reported.
PARTS = {
    "ingest": {
        "request parse (orjson/pydantic)": ("_parse_body", "model_validate", "parse_raw_body", "loads"),
        "line checks + content hash": ("parse_lines", "content_hash", "_canonical"),
        "event build + encode": ("_event", "row_for", "encode"),
        "SQL (asyncpg)": ("execute", "fetch", "fetchval", "fetchrow", "copy_records_to_table", "_bulk"),
        "outbox relay (claim, publish, mark)": ("relay_once", "_publish", "claim", "mark_sent", "send_batch"),
    },
    "transform": {
        "envelope decode (orjson + pydantic)": ("decode",),
        "standardize": ("standardize",),
        "normalize_text": ("normalize_text",),
        "line_write (states, progress)": ("line_write",),
        "SQL (asyncpg)": ("execute", "fetch", "fetchval", "fetchrow", "copy_records_to_table", "_bulk"),
        "outbox rows (build + encode)": ("_standardized", "row_for"),
        "Kafka fetch/commit (aiokafka)": ("getmany", "_fetch", "commit", "_proc_fetch_request"),
    },
}


def _spy(pid: int, path: Path) -> subprocess.Popen[bytes]:
    """py-spy beside the service: on-CPU samples, 100 per second, raw (collapsed) stacks into `path`."""
    cmd = [PY_SPY, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "-o", str(path)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _function(frame: str) -> str:
    """`Connection.execute (asyncpg/connection.py:1)` → `execute`: py-spy 0.4 prints qualified names."""
    return frame.split(" (", 1)[0].rsplit(".", 1)[-1]


def summarise(stacks: Path, parts: dict[str, tuple[str, ...]]) -> tuple[int, dict[str, float], list[str]]:
    """(samples, inclusive share per part, top self-time functions) from py-spy's raw (collapsed) output."""
    total, inclusive, own = 0, Counter[str](), Counter[str]()
    for line in stacks.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = {_function(f) for f in stack.split(";")}
        for part, names in parts.items():
            if not frames.isdisjoint(names):
                inclusive[part] += n
        own[stack.split(";")[-1]] += n
    shares = {part: inclusive[part] / total if total else 0.0 for part in parts}
    top = [f"{n / total:6.1%}  {f}" for f, n in own.most_common(12)] if total else []
    return total, shares, top


async def main() -> None:
    n = int(os.environ.get("BENCH_ROWS", "10000"))
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    services = {name: shipped_service(name).start() for name in ("ingest", "transform", "transform-progress")}
    spies: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    try:
        conn = await admin()
        async with httpx.AsyncClient(timeout=300) as http:
            token = await login(http, services["ingest"].url, *await create_client(conn))
            url = services["ingest"].url
            warm = bench_prefix("PW")
            await http_import(http, url, token, contract_rows(1000, seed=21, prefix=warm))
            await wait_readable(warm, 1000)
            for name in ("ingest", "transform"):
                proc = services[name].proc
                assert proc is not None
                path = OUT / f"profile-{stamp}-{name}.txt"
                spy = _spy(proc.pid, path)
                spies[name] = (spy, path)
            await asyncio.sleep(1.5)  # py-spy attaches
            ours = {name: [psutil.Process(s.proc.pid)] for name, s in services.items() if s.proc}
            kafka_port = int(KAFKA_BOOTSTRAP.rsplit(":", 1)[1])
            kafka = [psutil.Process(pid) for pid in pids_listening(kafka_port)]
            before = {k: cpu_seconds(v) for k, v in ours.items()} | {
                "postgres": postgres_cpu_seconds(),
                "kafka": cpu_seconds(kafka),
            }
            load = os.getloadavg()
            prefix = bench_prefix("PR")
            started = time.perf_counter()
            await http_import(http, url, token, contract_rows(n, seed=22, prefix=prefix))
            await wait_readable(prefix, n)
            took = time.perf_counter() - started
            after = {k: cpu_seconds(v) for k, v in ours.items()} | {
                "postgres": postgres_cpu_seconds(),
                "kafka": cpu_seconds(kafka),
            }
        await conn.close()
    finally:
        for spy, _ in spies.values():
            spy.send_signal(signal.SIGINT)
        for spy, _ in spies.values():
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        for service in services.values():
            service.stop()
        await forget_bench_lines()
    out = sys.stdout.write
    out(f"\n{n} lines in {took:.1f} s = {n / took:,.0f} lines/s (load average before: {load[0]:.1f})\n")
    out("CPU per imported line (ms):\n")
    for k in after:
        out(f"  {k:<20} {1000 * (after[k] - before[k]) / n:6.2f}\n")
    out(f"  {'total':<20} {1000 * sum(after[k] - before[k] for k in after) / n:6.2f}\n")
    for name, (_, path) in spies.items():
        if not path.exists():
            out(f"{name}: no py-spy output\n")
            continue
        total, shares, top = summarise(path, PARTS[name])
        out(f"\n{name}: {total} on-CPU samples ({path.relative_to(ROOT)})\n")
        for part, share in shares.items():
            out(f"  {share:6.1%}  {part}\n")
        out("  top self time:\n" + "".join(f"    {t}\n" for t in top))


if __name__ == "__main__":
    asyncio.run(main())
