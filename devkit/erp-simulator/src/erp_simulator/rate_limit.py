"""Token buckets per session token (burst = the per-second limit)."""

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def clear(self) -> None:
        self._buckets.clear()

    def wait_needed(self, key: str, per_second: float) -> float:
        """Seconds until ``key`` may send again; 0 means this request is allowed."""
        now = self._clock()
        capacity = max(per_second, 1.0)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != per_second:
            bucket = self._buckets[key] = _Bucket(per_second, capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / per_second
