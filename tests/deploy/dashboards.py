"""The Grafana dashboards as data, and the metrics their queries name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric

from common.metrics import Metrics

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
ROOT = DASHBOARDS.parents[2]

# Metrics the dashboards and alerts use that services are still adding (issue 5 item 1, by other authors).
# A panel that names one of these is skipped by the query check while no service exports it yet; once one is
# exported, its panels are checked like all others. Remove names from here as they land.
PENDING_METRICS = frozenset(
    {
        "rollsync_erp_calls_total",
        "rollsync_erp_call_duration_seconds_bucket",
        "rollsync_erp_budget_remaining",
        "rollsync_erp_circuit_state",
        "rollsync_erp_login_failures_total",
        "rollsync_erp_push_backlog",
        "rollsync_erp_sync_failures_total",
        "rollsync_sync_decisions_total",
        "rollsync_erp_pulled_customers_total",
        "rollsync_erp_pushes_total",
        "rollsync_erp_connector_state",
    }
)
# Series Prometheus makes itself.
SYNTHETIC = frozenset({"up"})
_METRIC = re.compile(r"\b(rollsync_[a-z0-9_]+|up)\b")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    ref: str
    expr: str

    @property
    def where(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}"

    @property
    def metrics(self) -> frozenset[str]:
        return metric_names(self.expr)


def metric_names(expr: str) -> frozenset[str]:
    """Metric names a PromQL expression selects (label values in quotes are not names)."""
    return frozenset(_METRIC.findall(_STRING.sub('""', expr)))


def load() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for panel in board["panels"]:
        out += [panel] if panel["type"] != "row" else panel.get("panels", [])
    return out


def queries() -> list[Query]:
    return [
        Query(name, panel["title"], target["refId"], target["expr"])
        for name, board in load().items()
        for panel in panels(board)
        for target in panel["targets"]
    ]


def sample_names(family: Metric) -> set[str]:
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("_sum", "_count"),
    }
    return {family.name + s for s in suffixes.get(family.type, ("",))}


def declared_in_code() -> frozenset[str]:
    """Sample names of the shared Metrics, plus every rollsync_* name a service's source spells out."""
    names: set[str] = set()
    for family in Metrics("catalog").registry.collect():
        names |= sample_names(family)
    for path in (ROOT / "services").glob("*/src/**/*.py"):
        for name in re.findall(r'"(rollsync_[a-z0-9_]+)"', path.read_text(encoding="utf-8")):
            names |= {name, f"{name}_total", f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return frozenset(names)
