"""Client-side token bucket and retry budget, both on an injectable clock."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`reserve()` takes a token now or books the next one and says how long to wait for it.

    Booking lets the balance go negative, so concurrent callers queue up fairly instead of
    waking together. `block_for(s)` honours a server's Retry-After for every caller.
    """

    def __init__(self, rate_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self._clock = rate_per_s, float(burst), clock
        self._tokens, self._updated = float(burst), clock()
        self._blocked_until = 0.0

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        return now

    def reserve(self) -> float:
        now = self._refill()
        self._tokens -= 1
        wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        return max(wait, self._blocked_until - now)

    def blocked_for(self) -> float:
        return max(0.0, self._blocked_until - self._clock())

    def block_for(self, seconds: float) -> None:
        now = self._refill()
        self._blocked_until = max(self._blocked_until, now + seconds)
        # Whatever was saved up before the server complained is not ours to spend.
        self._tokens = min(self._tokens, 0.0)

    @property
    def remaining(self) -> float:
        self._refill()
        return max(0.0, self._tokens)


class RetryBudget:
    """Retries may add at most `ratio` of first tries (plus a small floor), so a sick ERP is not
    hammered by everyone's retries at once (DELIVERY.md §10 "within a retry budget")."""

    def __init__(
        self,
        ratio: float,
        min_per_s: float,
        cap: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ratio, self._min_per_s, self._cap, self._clock = ratio, min_per_s, cap, clock
        self._tokens, self._updated = cap, clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._cap, self._tokens + (now - self._updated) * self._min_per_s)
        self._updated = now

    def first_try(self) -> None:
        self._refill()
        self._tokens = min(self._cap, self._tokens + self._ratio)

    def try_retry(self) -> bool:
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    @property
    def remaining(self) -> float:
        self._refill()
        return self._tokens
