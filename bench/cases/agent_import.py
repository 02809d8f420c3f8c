"""A1 and M1 (agent): rollsync-agent's history import ÷ posting the same rows with the batch API; scan cost.

Interleaved pairs A B B A … against the real ingest service, each run with its own seeded rows (same content,
new contract prefix, so ingest never answers "unchanged"):
  A  `rollsync-agent import-history` (rollsync_agent.history.import_history): read the factory table
     (PostgreSQL, a throwaway schema), hash, upload in the agent's chunks, record what the cloud accepted.
  B  the same rows, already in memory in the agent's upload form, posted in the same chunks with the same
     JSON encoding, headers (bearer + Idempotency-Key) and response check: the thinnest correct client.
Each side runs in a child process of its own, so its CPU time and peak RSS are its own (M1); timing starts at
the import call (A: includes opening the factory table) and at the first POST (B), after login for B.
After the last A run, a scan of its (now unchanged) table measures the agent's CPU seconds and peak RSS.

    python -m bench.cases.agent_import      # starts ingest on the bench ports, prints the ratios
    BENCH_AGENT_ROWS=50000 BENCH_AGENT_PAIRS=5 (defaults; CI mode: 10000 rows, 3 pairs)
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import BENCH_MARK, Ratio, Report, admin, bench_prefix, shipped_service
from tests.support.api import create_client
from tests.support.generate import contract_rows
from tests.support.stack import PG_PORT, PYTHON, ROOT, ServiceProcess

ROWS = int(os.environ.get("BENCH_AGENT_ROWS", "50000"))
PAIRS = int(os.environ.get("BENCH_AGENT_PAIRS", "5"))
CHUNK = 500  # rollsync_agent.history.DEFAULT_CHUNK: both sides post the same batches
SCAN_TARGET_ROWS = 50_000


def _usage() -> dict[str, float]:
    """CPU seconds so far and peak RSS. Not ru_maxrss: Linux carries the parent's high-water mark across
    fork + exec, so a child of this 170 MB parent would report 170 MB. VmHWM starts afresh at exec."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    status = Path("/proc/self/status").read_text()
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return {"cpu_s": me.ru_utime + me.ru_stime, "peak_rss_mb": hwm_kb / 1024}


# ---------------------------------------------------------------- children (one run each, JSON on stdout)


def _import_driver() -> None:
    """Start-up, not import work: SQLAlchemy loads the dialect and psycopg at the first connect. With
    PYTHONDONTWRITEBYTECODE (set here) that costs ~4 s of compiling in every fresh process."""
    importlib.import_module("sqlalchemy.dialects.postgresql.psycopg")
    importlib.import_module("psycopg")


def _child_import(config_path: str) -> dict[str, Any]:
    from rollsync_agent.config import load_config
    from rollsync_agent.history import import_history

    config = load_config(Path(config_path))
    _import_driver()
    before, started = _usage(), time.perf_counter()
    result = import_history(config, chunk=CHUNK)
    wall = time.perf_counter() - started
    after = _usage()
    assert result.accepted == result.total, result
    return {"lines": result.total, "wall_s": wall, "cpu_s": after["cpu_s"] - before["cpu_s"], **_peak(after)}


def _child_direct(rows_path: str, url: str, client_id: str, secret: str) -> dict[str, Any]:
    import httpx

    rows = json.loads(Path(rows_path).read_text(encoding="utf-8"))
    with httpx.Client(base_url=url, timeout=120) as http:
        login = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
        token = http.post("/auth/system-login", json=login).raise_for_status().json()["access_token"]
        before, started = _usage(), time.perf_counter()
        for i in range(0, len(rows), CHUNK):
            doc = {"contracts": rows[i : i + CHUNK], "overwrite": True, "source": "local_system"}
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{uuid.uuid4().hex}",
            }
            answer = (
                http.post("/sync/contracts/batch", content=body, headers=headers).raise_for_status().json()
            )
            assert answer["accepted"] == len(doc["contracts"]), answer
        wall = time.perf_counter() - started
    after = _usage()
    return {"lines": len(rows), "wall_s": wall, "cpu_s": after["cpu_s"] - before["cpu_s"], **_peak(after)}


def _child_scan(config_path: str) -> dict[str, Any]:
    from rollsync_agent.capture import scan
    from rollsync_agent.config import load_config
    from rollsync_agent.factory_db import load_table, open_engine
    from rollsync_agent.state import StateStore

    config = load_config(Path(config_path))
    engine, state = open_engine(config), StateStore(config.state_path)
    try:
        lines = load_table(engine, config)
        before, started = _usage(), time.perf_counter()
        changes = scan(engine, lines, state)
        wall = time.perf_counter() - started
        after = _usage()
    finally:
        state.close()
        engine.dispose()
    return {
        "changes": len(changes),
        "wall_s": wall,
        "cpu_s": after["cpu_s"] - before["cpu_s"],
        **_peak(after),
    }


def _peak(usage: dict[str, float]) -> dict[str, float]:
    return {"peak_rss_mb": round(usage["peak_rss_mb"], 1)}


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.cases.agent_import", "child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench child {args[0]} failed:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


# ---------------------------------------------------------------- the parent: data, pairs, ratios


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


async def _factory_table(schema: str, rows: list[dict[str, Any]]) -> None:
    """The factory's hetong table, as a real one would hold it (数量 a number, the rest text; NULL = absent)."""
    columns = _columns(rows)
    conn = await admin()
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        ddl = ", ".join(f'"{c}" {"integer" if c == "数量" else "text"}' for c in columns)
        await conn.execute(f'CREATE TABLE "{schema}".hetong ({ddl}, PRIMARY KEY ("合同编号", "产品ID"))')
        records = [tuple(row.get(c) for c in columns) for row in rows]
        await conn.copy_records_to_table("hetong", schema_name=schema, columns=columns, records=records)
    finally:
        await conn.close()


async def _drop(schemas: list[str]) -> None:
    conn = await admin()
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def _agent_config(workdir: Path, schema: str, url: str, client_id: str, secret: str) -> Path:
    dsn = f"postgresql+psycopg://rollsync_admin@127.0.0.1:{PG_PORT}/rollsync?options=-csearch_path%3D{schema}"
    doc = {
        "cloudApi": {"baseUrl": url, "clientId": client_id, "clientSecret": secret, "timeout": 120000},
        "database": {"connectionString": dsn, "syncTableName": "hetong"},
        "statusPage": {"enabled": False},
        "stateFile": str(workdir / f"{schema}.state"),
        "logging": {"filePath": str(workdir / f"{schema}.log")},
    }
    path = workdir / f"{schema}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


async def _run_a(
    workdir: Path, n: int, url: str, creds: tuple[str, str], schemas: list[str]
) -> dict[str, Any]:
    schema = f"bench_agent_{uuid.uuid4().hex[:8]}"
    schemas.append(schema)
    await _factory_table(schema, contract_rows(n, seed=11, prefix=f"{BENCH_MARK}AA{schema[-8:]}-"))
    result = _child(["import", str(_agent_config(workdir, schema, url, *creds))])
    result["config"] = str(workdir / f"{schema}.json")
    return result


def _run_b(workdir: Path, n: int, url: str, creds: tuple[str, str]) -> dict[str, Any]:
    from rollsync_agent.rows import upload_row

    rows = [upload_row(r) for r in contract_rows(n, seed=11, prefix=bench_prefix("AB", 8))]
    path = workdir / f"direct-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return _child(["direct", str(path), url, *creds])


def _rate(run: dict[str, Any]) -> float:
    return float(run["lines"]) / float(run["wall_s"])


async def run(report: Report, ingest: ServiceProcess, n: int = ROWS, pairs: int = PAIRS) -> None:
    conn = await admin()
    try:
        creds = await create_client(conn)
    finally:
        await conn.close()
    schemas: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        workdir = Path(tmp)
        try:
            _run_b(workdir, min(n, 2000), ingest.url, creds)  # warm-up: ingest's pydantic, PG cache
            measured: list[tuple[dict[str, Any], dict[str, Any]]] = []
            for i in range(pairs):  # A B, then B A: neither side always goes first
                if i % 2 == 0:
                    a = await _run_a(workdir, n, ingest.url, creds, schemas)
                    b = _run_b(workdir, n, ingest.url, creds)
                else:
                    b = _run_b(workdir, n, ingest.url, creds)
                    a = await _run_a(workdir, n, ingest.url, creds, schemas)
                measured.append((a, b))
            scan = _child(["scan", measured[-1][0]["config"]])
        finally:
            await _drop(schemas)
    _report(report, n, measured, scan)


def _report(
    report: Report, n: int, measured: list[tuple[dict[str, Any], dict[str, Any]]], scan: dict[str, Any]
) -> None:
    ratios = [_rate(a) / _rate(b) for a, b in measured]
    middle = ratios.index(statistics.median_low(ratios))
    a, b = measured[middle]
    scan_cpu_per_50k = scan["cpu_s"] * SCAN_TARGET_ROWS / n
    report.figures["agent_import"] = {
        "rows": n,
        "pairs": len(measured),
        "per_pair_ratio": [round(r, 3) for r in ratios],
        "ratio_median_min_max": [round(ratios[middle], 3), round(min(ratios), 3), round(max(ratios), 3)],
        "agent_lines_per_s": [round(_rate(a)) for a, _ in measured],
        "direct_lines_per_s": [round(_rate(b)) for _, b in measured],
        "agent_cpu_s": [round(a["cpu_s"], 2) for a, _ in measured],
        "direct_cpu_s": [round(b["cpu_s"], 2) for _, b in measured],
        "agent_import_peak_rss_mb": max(a["peak_rss_mb"] for a, _ in measured),
        "direct_peak_rss_mb": max(b["peak_rss_mb"] for _, b in measured),
        "scan": {**scan, "cpu_s_per_50k_rows": round(scan_cpu_per_50k, 3)},
    }
    report.ratios += [
        Ratio(
            "A1",
            "agent history import ÷ direct batch POSTs (median pair)",
            _rate(a),
            _rate(b),
            "lines/s",
            0.8,
            0.6,
        ),
        Ratio(
            "A1-scan",
            f"agent scan CPU of {SCAN_TARGET_ROWS:,} unchanged rows (measured on {n:,}, scaled)",
            scan_cpu_per_50k,
            1.0,
            "s",
            2.0,
            2.0,
            higher_is_better=False,
        ),
        Ratio(
            "M1-agent",
            f"agent peak RSS scanning a {n:,}-row table",
            scan["peak_rss_mb"],
            1.0,
            "MB",
            150,
            250,
            higher_is_better=False,
        ),
    ]
    if scan["changes"] != 0:
        report.figures["agent_import"]["scan_problem"] = f"{scan['changes']} changes in an unchanged table"


def main() -> None:
    if sys.argv[1:2] == ["child"]:
        kind, args = sys.argv[2], sys.argv[3:]
        handlers: dict[str, Callable[..., dict[str, Any]]] = {
            "import": _child_import,
            "direct": _child_direct,
            "scan": _child_scan,
        }
        sys.stdout.write(json.dumps(handlers[kind](*args)) + "\n")
        return
    report = Report()
    ingest = shipped_service("ingest").start()
    try:
        asyncio.run(run(report, ingest))
    finally:
        ingest.stop()
    for r in report.ratios:
        sys.stdout.write(
            f"{r.gid:<9} {r.value:7.2f} (target {r.target}, floor {r.floor}) {r.verdict:<13} {r.what}\n"
        )
    sys.stdout.write(json.dumps(report.figures, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
