"""The one retry delay of rollsync: capped exponential backoff with full jitter (DELIVERY.md §6, §10).

Full jitter spreads retries of many clients over the whole window, so a recovering ERP, database or broker is
not hit by synchronised waves ("Exponential Backoff And Jitter", AWS Architecture Blog).
"""

from __future__ import annotations

import random
from collections.abc import Callable


def full_jitter(
    attempt: int, base_s: float, cap_s: float, rand: Callable[[], float] = random.random
) -> float:
    """A uniform delay in [0, min(cap, base * 2^(attempt-1)))."""
    ceiling = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return rand() * ceiling


def retry_delay(
    attempt: int,
    base_s: float,
    cap_s: float,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Never earlier than the server asked (RFC 6585 §4, RFC 9110 §10.2.3)."""
    delay = full_jitter(attempt, base_s, cap_s, rand)
    return delay if retry_after is None else max(delay, retry_after)
