"""Pairing and statistics for same-run ratios (BENCHMARKS.md §3). Pure: no I/O, no clock.

A ratio is never one measurement divided by another. Each case runs A (ours) and B (baseline) in interleaved
pairs, A B B A A B …, after a discarded warm-up of each; every pair gives one ratio, and the table shows the
median of those ratios with their min and max, beside the median absolute figures of each side.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

Side = Literal["A", "B"]
# Latencies are recorded in microseconds from 1 µs to 10 min with 3 significant digits.
_HDR_LOWEST_US, _HDR_HIGHEST_US, _HDR_DIGITS = 1, 600_000_000, 3


def pair_order(pairs: int) -> list[Side]:
    """A B, B A, A B, …: each side runs first in half of the pairs, so drift over the run cancels."""
    if pairs < 1:
        raise ValueError("at least one pair")
    order: list[Side] = []
    for i in range(pairs):
        order += ["A", "B"] if i % 2 == 0 else ["B", "A"]
    return order


@dataclass(frozen=True, slots=True)
class Goal:
    gid: str
    what: str
    unit: str
    target: float
    floor: float
    higher_is_better: bool = True

    def verdict(self, ratio: float) -> str:
        def good(limit: float) -> bool:
            return ratio >= limit if self.higher_is_better else ratio <= limit

        return "ok" if good(self.target) else "below target" if good(self.floor) else "BELOW FLOOR"


@dataclass(frozen=True, slots=True)
class PairedRatio:
    """One case's result: the per-pair ratios and both sides' absolute figures, in pair order."""

    goal: Goal
    ours: tuple[float, ...]
    baseline: tuple[float, ...]
    notes: str = ""

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(a / b if b else float("nan") for a, b in zip(self.ours, self.baseline, strict=True))

    @property
    def median(self) -> float:
        return statistics.median(self.ratios)

    @property
    def verdict(self) -> str:
        return self.goal.verdict(self.median)

    def as_json(self) -> dict[str, Any]:
        g = self.goal
        return {
            "id": g.gid,
            "what": g.what,
            "unit": g.unit,
            "target": g.target,
            "floor": g.floor,
            "higher_is_better": g.higher_is_better,
            "pairs": len(self.ratios),
            "ratio_median": round(self.median, 4),
            "ratio_min": round(min(self.ratios), 4),
            "ratio_max": round(max(self.ratios), 4),
            "ratios": [round(r, 4) for r in self.ratios],
            "ours_median": round(statistics.median(self.ours), 3),
            "baseline_median": round(statistics.median(self.baseline), 3),
            "ours": [round(v, 3) for v in self.ours],
            "baseline": [round(v, 3) for v in self.baseline],
            "verdict": self.verdict,
            "notes": self.notes,
        }


def new_histogram() -> HdrHistogram:
    return HdrHistogram(_HDR_LOWEST_US, _HDR_HIGHEST_US, _HDR_DIGITS)


def record_seconds(hist: HdrHistogram, values_s: Iterable[float]) -> None:
    for v in values_s:
        hist.record_value(max(_HDR_LOWEST_US, min(_HDR_HIGHEST_US, round(v * 1_000_000))))


def latency_summary(hist: HdrHistogram) -> dict[str, float]:
    """Milliseconds, read from the histogram (no hand-rolled percentiles)."""
    if hist.get_total_count() == 0:
        return {"n": 0}
    ms = 1000.0
    return {
        "n": hist.get_total_count(),
        "p50_ms": round(hist.get_value_at_percentile(50) / ms, 2),
        "p90_ms": round(hist.get_value_at_percentile(90) / ms, 2),
        "p99_ms": round(hist.get_value_at_percentile(99) / ms, 2),
        "max_ms": round(hist.get_max_value() / ms, 2),
        "mean_ms": round(hist.get_mean_value() / ms, 2),
    }


def p99_ms(values_s: Iterable[float]) -> float:
    hist = new_histogram()
    record_seconds(hist, values_s)
    return float(hist.get_value_at_percentile(99)) / 1000.0


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Two results.json bodies side by side, case by case; `better` follows each goal's direction."""
    before = {r["id"]: r for r in old.get("ratios", [])}
    rows = []
    for r in new.get("ratios", []):
        o = before.get(r["id"])
        change = None if o is None or not o["ratio_median"] else r["ratio_median"] / o["ratio_median"] - 1
        better = None
        if change is not None:
            better = change > 0 if r["higher_is_better"] else change < 0
        rows.append(
            {
                "id": r["id"],
                "old": None if o is None else o["ratio_median"],
                "new": r["ratio_median"],
                "new_min": r["ratio_min"],
                "new_max": r["ratio_max"],
                "change": None if change is None else round(change, 4),
                "better": better,
                # Only a move beyond both runs' own spread is worth a word.
                "beyond_spread": o is not None and not _overlap(o, r),
            }
        )
    return rows


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["ratio_min"] <= b["ratio_max"] and b["ratio_min"] <= a["ratio_max"])
