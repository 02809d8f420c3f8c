"""The benchmark harness's pairing and statistics (pure, fast; nothing here times anything)."""

from __future__ import annotations

import pytest

from bench.pairs import interleaved, interleaved_each
from bench.stats import (
    Goal,
    PairedRatio,
    compare,
    latency_summary,
    new_histogram,
    p99_ms,
    pair_order,
    record_seconds,
)

THROUGHPUT = Goal("GX", "ours ÷ raw", "rows/s", 0.8, 0.6)
LATENCY = Goal("GL", "p99 ÷ raw p99", "ms", 2.0, 3.0, higher_is_better=False)


def test_pairs_alternate_which_side_runs_first() -> None:
    assert pair_order(3) == ["A", "B", "B", "A", "A", "B"]
    order = pair_order(6)
    firsts = [order[i] for i in range(0, len(order), 2)]
    assert firsts.count("A") == firsts.count("B") == 3


def test_pair_order_refuses_zero_pairs() -> None:
    with pytest.raises(ValueError, match="at least one pair"):
        pair_order(0)


def test_ratio_is_the_median_of_per_pair_ratios_not_a_ratio_of_medians() -> None:
    r = PairedRatio(THROUGHPUT, ours=(100.0, 50.0, 90.0), baseline=(200.0, 50.0, 100.0))
    assert r.ratios == (0.5, 1.0, 0.9)
    assert r.median == 0.9
    body = r.as_json()
    assert (body["ratio_min"], body["ratio_max"], body["pairs"]) == (0.5, 1.0, 3)
    assert (body["ours_median"], body["baseline_median"]) == (90.0, 100.0)


def test_verdict_follows_the_goals_direction() -> None:
    assert THROUGHPUT.verdict(0.85) == "ok"
    assert THROUGHPUT.verdict(0.7) == "below target"
    assert THROUGHPUT.verdict(0.5) == "BELOW FLOOR"
    assert LATENCY.verdict(1.5) == "ok"
    assert LATENCY.verdict(2.5) == "below target"
    assert LATENCY.verdict(3.5) == "BELOW FLOOR"


def test_histogram_percentiles_come_from_hdr() -> None:
    hist = new_histogram()
    record_seconds(hist, [0.001] * 98 + [0.050, 0.100])
    s = latency_summary(hist)
    assert s["n"] == 100
    assert s["p50_ms"] == pytest.approx(1.0, rel=0.01)
    assert s["p99_ms"] == pytest.approx(50.0, rel=0.01)
    assert s["max_ms"] == pytest.approx(100.0, rel=0.01)
    assert p99_ms([0.002] * 200) == pytest.approx(2.0, rel=0.01)


def test_compare_marks_direction_and_spread() -> None:
    old = {"ratios": [_row("GX", 0.5, 0.45, 0.55, True), _row("GL", 3.0, 2.8, 3.2, False)]}
    new = {
        "ratios": [
            _row("GX", 0.52, 0.47, 0.6, True),
            _row("GL", 2.0, 1.8, 2.2, False),
            _row("GN", 1, 1, 1, True),
        ]
    }
    rows = {r["id"]: r for r in compare(old, new)}
    assert rows["GX"]["better"] is True
    assert rows["GX"]["beyond_spread"] is False  # within both runs' min..max: noise
    assert rows["GL"]["better"] is True  # a lower latency ratio is better
    assert rows["GL"]["beyond_spread"] is True
    assert rows["GN"]["old"] is None
    assert rows["GN"]["better"] is None


async def test_interleaved_discards_the_warm_up_and_keeps_pair_order() -> None:
    calls: list[str] = []
    values = {"A": iter([999.0, 10.0, 30.0, 50.0]), "B": iter([999.0, 20.0, 40.0, 60.0])}

    def side(name: str):  # type: ignore[no-untyped-def]
        async def run() -> float:
            calls.append(name)
            return next(values[name])

        return run

    r = await interleaved(THROUGHPUT, side("A"), side("B"), pairs=3)
    assert calls == ["A", "B", "A", "B", "B", "A", "A", "B"]
    assert r.ours == (10.0, 30.0, 50.0)  # 999 (warm-up) is gone
    assert r.baseline == (20.0, 40.0, 60.0)


async def test_interleaved_each_gives_every_goal_its_own_pairs_from_the_same_runs() -> None:
    runs = {
        "A": iter([(0.0, 0.0), (100.0, 2.0), (90.0, 3.0)]),
        "B": iter([(0.0, 0.0), (200.0, 1.0), (100.0, 1.0)]),
    }

    def side(name: str):  # type: ignore[no-untyped-def]
        async def run() -> tuple[float, float]:
            return next(runs[name])

        return run

    rate, cpu = await interleaved_each((THROUGHPUT, LATENCY), side("A"), side("B"), pairs=2)
    assert (rate.goal, rate.ours, rate.baseline, rate.ratios) == (
        THROUGHPUT,
        (100.0, 90.0),
        (200.0, 100.0),
        (0.5, 0.9),
    )
    assert (cpu.goal, cpu.ours, cpu.baseline, cpu.ratios) == (LATENCY, (2.0, 3.0), (1.0, 1.0), (2.0, 3.0))


async def test_interleaved_each_refuses_a_side_that_returns_the_wrong_number_of_figures() -> None:
    async def one() -> tuple[float]:
        return (1.0,)

    with pytest.raises(ValueError, match="1 figures for 2 goals"):
        await interleaved_each((THROUGHPUT, LATENCY), one, one, pairs=1)


def _row(gid: str, med: float, lo: float, hi: float, higher: bool) -> dict[str, object]:
    return {"id": gid, "ratio_median": med, "ratio_min": lo, "ratio_max": hi, "higher_is_better": higher}
