"""Run a case's two sides as interleaved pairs after a discarded warm-up (the only impure part of §3)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence

from bench.stats import Goal, PairedRatio, pair_order

Measure = Callable[[], Awaitable[float]]
MeasureEach = Callable[[], Awaitable[Sequence[float]]]


async def interleaved(
    goal: Goal, ours: Measure, baseline: Measure, pairs: int, notes: str = ""
) -> PairedRatio:
    """`ours` and `baseline` each return one absolute figure (rows/s, ms, …) per call."""

    async def a() -> Sequence[float]:
        return (await ours(),)

    async def b() -> Sequence[float]:
        return (await baseline(),)

    [result] = await interleaved_each((goal,), a, b, pairs, notes)
    return result


async def interleaved_each(
    goals: Sequence[Goal], ours: MeasureEach, baseline: MeasureEach, pairs: int, notes: str = ""
) -> list[PairedRatio]:
    """Several goals read off the same runs (e.g. wall-clock rate and CPU per line): each call returns one figure
    per goal, in the goals' order, and each goal gets its own pairs."""
    await ours()  # warm-up: imports, JIT of the broker, PG cache, pydantic schema builds, prepared statements
    await baseline()
    a: list[Sequence[float]] = []
    b: list[Sequence[float]] = []
    for i, side in enumerate(pair_order(pairs)):
        values = await (ours() if side == "A" else baseline())
        if len(values) != len(goals):
            raise ValueError(f"{side} returned {len(values)} figures for {len(goals)} goals")
        (a if side == "A" else b).append(values)
        shown = ", ".join(f"{g.gid} {v:,.2f} {g.unit}" for g, v in zip(goals, values, strict=True))
        sys.stdout.write(f"  pair {i // 2 + 1}/{pairs} {side}: {shown}\n")
        sys.stdout.flush()
    return [
        PairedRatio(goal, tuple(v[k] for v in a), tuple(v[k] for v in b), notes)
        for k, goal in enumerate(goals)
    ]
