"""Run a case's two sides as interleaved pairs after a discarded warm-up (the only impure part of §3)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from bench.stats import Goal, PairedRatio, pair_order

Measure = Callable[[], Awaitable[float]]


async def interleaved(
    goal: Goal, ours: Measure, baseline: Measure, pairs: int, notes: str = ""
) -> PairedRatio:
    """`ours` and `baseline` each return one absolute figure (rows/s, ms, …) per call."""
    await ours()  # warm-up: imports, JIT of the broker, PG cache, pydantic schema builds, prepared statements
    await baseline()
    a: list[float] = []
    b: list[float] = []
    for i, side in enumerate(pair_order(pairs)):
        value = await (ours() if side == "A" else baseline())
        (a if side == "A" else b).append(value)
        sys.stdout.write(f"  {goal.gid} pair {i // 2 + 1}/{pairs} {side}: {value:,.2f} {goal.unit}\n")
        sys.stdout.flush()
    return PairedRatio(goal, tuple(a), tuple(b), notes)
