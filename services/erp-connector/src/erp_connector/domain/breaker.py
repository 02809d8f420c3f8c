"""Circuit breaker: open after N consecutive failures, then one probe per half-open interval."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum

from erp_connector.domain.errors import CircuitOpenError


class BreakerState(IntEnum):
    """Values are the `rollsync_erp_circuit_state` gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """`ticket = before_call()` (raises CircuitOpenError), then `success(ticket)` or `failure(ticket)`.

    Tickets carry the generation they were issued in, so a slow call that started before the
    breaker changed state cannot close or re-open it afterwards.
    """

    def __init__(
        self, failure_threshold: int, open_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold, self._open_s, self._clock = failure_threshold, open_seconds, clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_at: float | None = None
        self._generation = 0

    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_in(self) -> float:
        """Seconds until a call may be tried again (0 when closed)."""
        if self._state is BreakerState.CLOSED:
            return 0.0
        start = self._probe_at if self._probe_at is not None else self._opened_at
        return max(0.0, start + self._open_s - self._clock())

    def before_call(self) -> int:
        if self._state is BreakerState.CLOSED:
            return self._generation
        wait = self.retry_in()
        if wait > 0:
            raise CircuitOpenError(wait)
        # The interval is over (or the last probe never reported): this call is the one probe.
        self._state, self._probe_at = BreakerState.HALF_OPEN, self._clock()
        self._generation += 1
        return self._generation

    def success(self, ticket: int) -> None:
        if ticket != self._generation:
            return
        if self._state is not BreakerState.CLOSED:
            self._generation += 1
        self._state, self._failures, self._probe_at = BreakerState.CLOSED, 0, None

    def failure(self, ticket: int) -> None:
        if ticket != self._generation:
            return
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
            self._state, self._opened_at, self._probe_at = BreakerState.OPEN, self._clock(), None
            self._generation += 1
