# The breaker changes state behind a property, which mypy narrows as if it could not.
# mypy: disable-error-code="comparison-overlap"
"""Backoff, circuit breaker, token bucket and retry budget, on fake clocks."""

from __future__ import annotations

import pytest

from common.backoff import full_jitter, retry_delay
from erp_connector.domain.breaker import BreakerState, CircuitBreaker
from erp_connector.domain.errors import CircuitOpenError
from erp_connector.domain.rate_limit import RetryBudget, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_full_jitter_stays_below_the_capped_exponential() -> None:
    assert full_jitter(1, 0.5, 10, rand=lambda: 0.999) == pytest.approx(0.4995)
    assert full_jitter(4, 0.5, 10, rand=lambda: 0.999) == pytest.approx(3.996)
    assert full_jitter(20, 0.5, 10, rand=lambda: 0.999) == pytest.approx(9.99)
    assert full_jitter(3, 0.5, 10, rand=lambda: 0.0) == 0.0


def test_retry_after_is_a_floor_for_the_delay() -> None:
    assert retry_delay(1, 0.5, 10, retry_after=5, rand=lambda: 0.5) == 5
    assert retry_delay(6, 0.5, 10, retry_after=1, rand=lambda: 0.5) == 5
    assert retry_delay(2, 0.5, 10, rand=lambda: 0.5) == 0.5


def test_breaker_opens_after_n_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 10, clock)
    for _ in range(2):
        breaker.failure(breaker.before_call())
    breaker.success(breaker.before_call())  # a success in between resets the count
    for _ in range(2):
        breaker.failure(breaker.before_call())
    assert breaker.state is BreakerState.CLOSED
    breaker.failure(breaker.before_call())
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpenError) as refused:
        breaker.before_call()
    assert refused.value.retry_in == pytest.approx(10)


def test_half_open_lets_exactly_one_probe_through_per_interval() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 10, clock)
    breaker.failure(breaker.before_call())
    clock.now += 10
    probe = breaker.before_call()
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # a second caller while the probe is out
    breaker.failure(probe)
    assert breaker.state is BreakerState.OPEN
    clock.now += 5
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    clock.now += 5
    breaker.success(breaker.before_call())
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()


def test_a_lost_probe_allows_another_after_the_interval() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 10, clock)
    breaker.failure(breaker.before_call())
    clock.now += 10
    lost = breaker.before_call()
    clock.now += 10
    second = breaker.before_call()
    breaker.success(lost)  # a stale ticket changes nothing
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.success(second)
    assert breaker.state is BreakerState.CLOSED


def test_a_slow_call_from_before_the_breaker_opened_cannot_close_it() -> None:
    clock = Clock()
    breaker = CircuitBreaker(2, 10, clock)
    slow = breaker.before_call()
    breaker.failure(breaker.before_call())
    breaker.failure(breaker.before_call())
    assert breaker.state is BreakerState.OPEN
    breaker.success(slow)
    assert breaker.state is BreakerState.OPEN


def test_token_bucket_spaces_calls_after_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=10, burst=2, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == pytest.approx([0, 0, 0.1, 0.2])
    clock.now += 0.3  # 3 tokens back, 2 of them already booked
    assert bucket.remaining == pytest.approx(1.0)
    clock.now += 10
    assert bucket.remaining == 2  # never more than the burst


def test_block_for_holds_every_caller_until_retry_after() -> None:
    clock = Clock()
    bucket = TokenBucket(rate_per_s=100, burst=100, clock=clock)
    bucket.block_for(3)
    assert bucket.reserve() == pytest.approx(3)
    assert bucket.blocked_for() == pytest.approx(3)
    clock.now += 3
    assert bucket.blocked_for() == 0
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0, 1)


def test_retry_budget_allows_retries_in_proportion_to_first_tries() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.5, min_per_s=0, cap=2, clock=clock)
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]
    for _ in range(4):
        budget.first_try()
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]


def test_retry_budget_refills_slowly_on_its_own() -> None:
    clock = Clock()
    budget = RetryBudget(ratio=0.1, min_per_s=1, cap=5, clock=clock)
    while budget.try_retry():
        pass
    clock.now += 2
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]
