"""Shared pieces of the benchmark harness: the stack, data, timing and the ratio table."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from tests.support.stack import KAFKA_BOOTSTRAP, ROOT, admin_dsn

OUT = ROOT / "bench" / "out"


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
