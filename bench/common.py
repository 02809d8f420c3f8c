"""Shared pieces of the benchmark harness: the stack, data, timing and the ratio table."""

from __future__ import annotations

import os
import platform
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from tests.support.stack import KAFKA_BOOTSTRAP, ROOT, ServiceProcess, admin_dsn
from transform.config import Settings as TransformSettings

OUT = ROOT / "bench" / "out"

# Every line a benchmark posts has a contract number starting with this, so `forget_bench_lines` can delete them
# afterwards: 50 000 lines per E2E run left in the development database made later runs and tests slower (a
# complete reconciliation compares every live line and timed out past a million).
BENCH_MARK = "bench"
# The tables that hold a posted line, children first. Not the change feed: deleting from it moves its retention
# horizon, and few bench lines have feed rows (the G7 reports' 200).
_LINE_TABLES = (
    "transform.product_processes",
    "transform.products",
    "transform.contracts",
    "transform.progress_reports",
    "transform.line_receipts",
    "transform.hetong_original",
    "ingest.progress_state",
    "ingest.contract_lines",
)


def bench_prefix(tag: str, width: int = 6) -> str:
    """A contract-number prefix for one set of posted lines: `bench<tag><hex>-`."""
    return f"{BENCH_MARK}{tag}{uuid.uuid4().hex[:width]}-"


async def forget_bench_lines() -> None:
    """Delete every line benchmarks posted (their contract numbers start with BENCH_MARK)."""
    conn = await admin()
    try:
        for table in _LINE_TABLES:
            await conn.execute(f"DELETE FROM {table} WHERE starts_with(contract_no, $1)", BENCH_MARK)
    finally:
        await conn.close()


def _shipped(setting: str) -> str:
    return str(TransformSettings.model_fields[setting].default)


IMPORT_BATCH = TransformSettings.model_fields["import_batch_size"].default  # the lines consumer's batch

# The test stack runs transform's whole-table consistency check every 2 s and rereads its configuration every
# second; measured, that check alone took a third of PostgreSQL's CPU during an import. Benchmarks run as shipped.
SHIPPED_CADENCE = {
    "TRANSFORM_CONSISTENCY_CHECK_S": _shipped("consistency_check_s"),
    "TRANSFORM_CONSISTENCY_FIRST_CHECK_S": _shipped("consistency_first_check_s"),
    "TRANSFORM_CONFIG_RELOAD_S": _shipped("config_reload_s"),
}


def shipped_service(name: str) -> ServiceProcess:
    """A service process with the shipped schedules rather than the tests' fast ones (started by the caller)."""
    return ServiceProcess(name, extra_env=SHIPPED_CADENCE if name.startswith("transform") else {})


@dataclass
class Ratio:
    gid: str
    what: str
    ours: float
    baseline: float
    unit: str
    target: float
    floor: float
    higher_is_better: bool = True
    notes: str = ""

    @property
    def value(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")

    @property
    def verdict(self) -> str:
        def good(limit: float) -> bool:
            return self.value >= limit if self.higher_is_better else self.value <= limit

        return "ok" if good(self.target) else "below target" if good(self.floor) else "BELOW FLOOR"


@dataclass
class Report:
    ratios: list[Ratio] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


async def admin() -> asyncpg.Connection:
    return await asyncpg.connect(admin_dsn())


def environment() -> dict[str, Any]:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except OSError:
            return ""

    return {
        "nproc": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "python": platform.python_version(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in run(["lscpu"]).splitlines()
                if line.startswith("Model name")
            ),
            "",
        ),
        "git_commit": run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "kafka": "4.0.1 (KRaft, single node, RF=1)",
        "kafka_bootstrap": KAFKA_BOOTSTRAP,
        "packages": run(
            [
                str(ROOT / ".venv/bin/python"),
                "-c",
                "import importlib.metadata as m; print({p: m.version(p) for p in "
                "('aiokafka','faststream','asyncpg','pydantic','orjson','uvicorn','fastapi')})",
            ]
        ),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
