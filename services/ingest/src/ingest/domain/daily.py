"""Seed 000's daily row limit: which day a row counts in. Pure.

The day is the factory's calendar day in China (UTC+8, no daylight saving there), so the quota renews at the
local midnight the operators see, not at 08:00 their time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def china_day(now: datetime) -> tuple[datetime, int]:
    """The start of `now`'s China day (as UTC) and the whole seconds until the next one begins (>= 1)."""
    local = now.astimezone(CHINA)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    remaining = (start + timedelta(days=1) - local).total_seconds()
    return start.astimezone(UTC), max(1, math.ceil(remaining))
