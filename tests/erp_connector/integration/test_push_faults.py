"""Issue 4: with ~30 % of ERP calls failing (5xx, resets, 429, timeouts, replies lost after the
save), every push is applied exactly once, none twice, and attempts stay bounded."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import Any

import pytest

from erp_connector.domain.breaker import BreakerState, CircuitBreaker
from tests.erp_connector.harness import (
    Exchange,
    company,
    control_for,
    enqueue,
    erp,
    erp_schema,
    metrics,
    push_worker,
    sim_settings,
    sync_request,
)

pytestmark = pytest.mark.integration
CREATES, UPDATES, EXISTING = 50, 6, 4


async def test_every_push_lands_exactly_once_under_thirty_percent_faults() -> None:
    settings = sim_settings(seed=7, rate_limit_per_second=50, rate_limit_mode="http429")
    async with erp_schema() as (schema, pool), erp(settings, rate=80, burst=5, call_timeout_s=0.25) as e:
        seeded = [c["ord"] for c in await e.customers()][:UPDATES]
        for n in range(EXISTING):  # created earlier by a push whose reply never came back
            await e.client.create_customer({**company(n), "sort1": "101", "khid": f"KH-9{n:05d}"}, 1)
        before = {c["ord"] for c in await e.customers()}
        calm = await e.state()
        await (
            e.faults(  # 429s from the rate limit need a fast machine; throttle_rate's come whatever the speed
                error_rate=0.2,
                reset_rate=0.04,
                timeout_rate=0.05,
                hang_seconds=0.4,
                lost_reply_rate=0.3,
                throttle_rate=0.02,
            )
        )
        requests = [sync_request(f"f-{n}", f"KH-9{n:05d}", company(n)) for n in range(CREATES)]
        requests += [
            sync_request(
                f"u-{i}", f"KH-8{i:05d}", {"email": f"u{i}@example.cn"}, action="update", erp_id=ord_
            )
            for i, ord_ in enumerate(seeded)
        ]
        await enqueue(pool, *requests)
        await enqueue(pool, *requests[:10])  # redelivered commands are absorbed
        m = metrics()
        worker = push_worker(
            schema, pool, e, await control_for(pool, e.client, m), m, max_wait_in_run_s=10, concurrency=8
        )
        report = await worker.run()

        state = await e.state()
        injected = sum(state["faults_injected"].values()) - sum(calm["faults_injected"].values())
        assert injected / (state["requests_total"] - calm["requests_total"]) >= 0.25, state["faults_injected"]
        assert {"error", "reset", "timeout", "lost_reply", "throttled"} <= set(state["faults_injected"])
        assert (report.synced, report.dead) == (CREATES + UPDATES, 0)

        after = await e.customers()
        ours = Counter(c["khid"] for c in after if c["khid"].startswith("KH-9"))
        assert ours == Counter({f"KH-9{n:05d}": 1 for n in range(CREATES)})  # one record per code
        assert {c["ord"] for c in after} - before == {
            c["ord"] for c in after if c["khid"].startswith("KH-9")
        } - before
        assert len(after) == len(before) + CREATES - EXISTING  # none created twice

        rows = {
            r["customer_id"]: r
            for r in await pool.fetch("SELECT customer_id, attempts, status FROM erp_push_queue")
        }
        assert all(r["status"] == "synced" for r in rows.values())
        assert max(r["attempts"] for r in rows.values()) <= 8
        total = sum(r["attempts"] for r in rows.values())
        assert total <= 1.8 * len(rows), total
        saves = {c["khid"]: c["save_count"] for c in after if c["khid"].startswith("KH-9")}
        for n in range(CREATES):  # each applied save is one we counted (the existing four had one more)
            assert 1 <= saves[f"KH-9{n:05d}"] <= rows[f"f-{n}"]["attempts"] + (1 if n < EXISTING else 0)
        for i, ord_ in enumerate(seeded):
            assert next(c for c in after if c["ord"] == ord_)["fields"]["email"] == f"u{i}@example.cn"


# -- DELIVERY.md §12 E1 / E2 at `make test` size ----------------------------------------------------


def retry_after_violations(wire: list[Exchange], slack_s: float = 0.1) -> list[tuple[float, float]]:
    """(answered, sent) pairs where a request went out while a 429's Retry-After was still running.
    `slack_s` covers reading the 429's body before the client blocks its token bucket."""
    blocks = [
        (x.answered_at, x.answered_at + float(x.retry_after))
        for x in wire
        if x.status == 429 and x.answered_at is not None and x.retry_after
    ]
    return [
        (start, x.sent_at) for start, end in blocks for x in wire if start + slack_s < x.sent_at < end - 0.01
    ]


E1_CREATES, E1_UPDATES = 60, 40


async def test_e1_thirty_five_percent_faults_with_retry_after_every_push_lands_once() -> None:
    """E1 (DELIVERY.md §12): 25 % 5xx, 10 % 429 + Retry-After (1 s), 2.5 % timeouts (not applied) and
    2.5 % of saves applied with the reply lost (the "half applied" timeouts), ~35 % of all calls.
    Scaled: 100 pushes instead of 10 000; the pass criteria are E1's own."""
    settings = sim_settings(seed=11, customers=200)
    wire: list[Exchange] = []
    # The injected hangs (1 s) outlast the call timeout (0.6 s) by far, and an answer a loaded CI machine merely
    # slows down does not: at 0.25 / 0.4 s such answers timed out too, on top of the 35 %, and one push ran out
    # of its 8 saves in one CI run.
    async with erp_schema() as (schema, pool), erp(settings, call_timeout_s=0.6, wire=wire) as e:
        seeded = [c["ord"] for c in await e.customers()][:E1_UPDATES]
        before = {c["ord"] for c in await e.customers()}
        calm = await e.state()
        await e.faults(
            throttle_rate=0.10,
            throttle_retry_after_s=1,
            timeout_rate=0.025,
            hang_seconds=1.0,
            error_rate=0.25,
            lost_reply_rate=0.025,
        )
        requests = [sync_request(f"e1-{n}", f"KH-7{n:05d}", company(n)) for n in range(E1_CREATES)]
        requests += [
            sync_request(
                f"e1u-{i}", f"KH-6{i:05d}", {"email": f"e1u{i}@example.cn"}, action="update", erp_id=o
            )
            for i, o in enumerate(seeded)
        ]
        await enqueue(pool, *requests)
        m = metrics()
        control = await control_for(pool, e.client, m)
        worker = push_worker(schema, pool, e, control, m, max_wait_in_run_s=10, concurrency=8)
        started = time.monotonic()
        report = await worker.run()
        took = time.monotonic() - started

        state = await e.state()
        calls = state["requests_total"] - calm["requests_total"]
        injected = sum(state["faults_injected"].values()) - sum(calm["faults_injected"].values())
        assert injected / calls >= 0.33, state["faults_injected"]
        # Every kind fires: the simulator draws each kind from its own seeded stream, and seed 11 hits
        # timeout at draw 53, lost_reply at 2, error and throttle at 1, all well inside the >= 100 draws
        # of each kind that 100 successful saves need, however the 8 workers interleave.
        assert {"error", "timeout", "lost_reply", "throttled"} <= set(state["faults_injected"])
        assert (report.synced, report.dead) == (E1_CREATES + E1_UPDATES, 0)
        after = await e.customers()
        ours = Counter(c["khid"] for c in after if c["khid"].startswith("KH-7"))
        assert ours == Counter({f"KH-7{n:05d}": 1 for n in range(E1_CREATES)})  # 1 record per reference
        assert len(after) == len(before) + E1_CREATES
        for i, o in enumerate(seeded):
            assert next(c for c in after if c["ord"] == o)["fields"]["email"] == f"e1u{i}@example.cn"
        attempts = [r["attempts"] for r in await pool.fetch("SELECT attempts FROM erp_push_queue")]
        assert max(attempts) <= 8
        assert sum(attempts) <= 1.8 * len(attempts), sum(attempts)
        assert retry_after_violations(wire) == []  # nothing sent before Retry-After
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic LIKE '%.dlq'") == 0
        print(  # noqa: T201 - the figures the report quotes (pytest -s)
            f"\nE1: pushes={len(attempts)} saves={sum(attempts)} ratio={sum(attempts) / len(attempts):.2f}"
            f" max_attempts={max(attempts)} erp_calls={calls} faults={injected} ({injected / calls:.0%})"
            f" by_kind={state['faults_injected']} 429s={sum(1 for x in wire if x.status == 429)} took={took:.1f}s"
        )


class RecordingBreaker(CircuitBreaker):
    """The real breaker, keeping a timeline of its state changes and of the failures it counted."""

    def __init__(self, threshold: int, open_s: float) -> None:
        super().__init__(threshold, open_s)
        self.transitions: list[tuple[float, BreakerState]] = []
        self.failures_before_first_open = 0

    def _note(self, was: BreakerState) -> None:
        if self.state is not was:
            self.transitions.append((time.monotonic(), self.state))

    def before_call(self) -> int:
        was = self.state
        try:
            return super().before_call()
        finally:
            self._note(was)

    def success(self, ticket: int) -> None:
        was = self.state
        super().success(ticket)
        self._note(was)

    def failure(self, ticket: int) -> None:
        was, counted = self.state, self.consecutive_failures
        super().failure(ticket)
        if (
            not any(s is BreakerState.OPEN for _, s in self.transitions)
            and self.consecutive_failures > counted
        ):
            self.failures_before_first_open += 1
        self._note(was)


E2_BACKLOG = 150
E2_OUTAGE_S = 4.0  # 120 s / 30
E2_OPEN_S = 1.0  # ERP__BREAKER_OPEN_SECONDS 30 s / 30


async def test_e2_erp_down_then_back_breaker_opens_probes_once_per_interval_and_the_backlog_drains() -> None:
    """E2 (DELIVERY.md §12): the ERP answers nothing but 5xx, then recovers. Scaled by 1/30 in time, all
    together: the outage 120 s → 4 s, the breaker's open interval 30 s → 1 s, push backoff base 1 s →
    0.033 s and cap 60 s → 2 s; the failure threshold stays 5; the backlog is 150 pushes instead of 2 000.
    Passes when the breaker opened after ≤ 5 failures, probed at most once per open interval, nothing
    was lost or dead-lettered and the backlog drained after recovery."""
    breaker = RecordingBreaker(5, E2_OPEN_S)
    wire: list[Exchange] = []
    async with (
        erp_schema() as (schema, pool),
        erp(sim_settings(seed=12), call_timeout_s=0.5, breaker=breaker, wire=wire) as e,
    ):
        await e.faults(error_rate=1.0)  # down: every call a 5xx, nothing applied
        await enqueue(pool, *[sync_request(f"e2-{n}", f"KH-5{n:05d}", company(n)) for n in range(E2_BACKLOG)])
        m = metrics()
        control = await control_for(pool, e.client, m)
        worker = push_worker(
            schema,
            pool,
            e,
            control,
            m,
            retry_base_s=0.033,
            retry_cap_s=2.0,
            max_wait_in_run_s=10,
            concurrency=8,
        )
        down_at = time.monotonic()
        run = asyncio.create_task(worker.run())
        await asyncio.sleep(E2_OUTAGE_S)
        await e.faults(error_rate=0.0)
        up_at = time.monotonic()
        drained_at = await _all_synced_at(pool, E2_BACKLOG)
        report = await asyncio.wait_for(run, 60)

        assert (report.synced, report.dead) == (E2_BACKLOG, 0)  # 0 lost
        stored = Counter(c["khid"] for c in await e.customers() if c["khid"].startswith("KH-5"))
        assert stored == Counter({f"KH-5{n:05d}": 1 for n in range(E2_BACKLOG)})
        assert breaker.failures_before_first_open <= 5
        opened = [t for t, s in breaker.transitions if s is BreakerState.OPEN]
        probes = [t for t, s in breaker.transitions if s is BreakerState.HALF_OPEN]
        assert opened and opened[0] < up_at and probes
        gaps = [b - a for a, b in itertools.pairwise(probes)]
        assert all(g >= E2_OPEN_S * 0.95 for g in gaps), gaps  # ≤ 1 probe per half-open interval
        during = [x for x in wire if down_at <= x.sent_at < up_at]
        in_outage_probes = [t for t in probes if t < up_at]
        assert len(in_outage_probes) <= E2_OUTAGE_S / E2_OPEN_S + 1
        assert breaker.state is BreakerState.CLOSED
        attempts = [r["attempts"] for r in await pool.fetch("SELECT attempts FROM erp_push_queue")]
        assert max(attempts) <= 8 and sum(attempts) <= 1.8 * E2_BACKLOG
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic LIKE '%.dlq'") == 0
        assert drained_at - up_at < 60.0
        print(  # noqa: T201 - the figures the report quotes (pytest -s)
            f"\nE2: backlog={E2_BACKLOG} outage={E2_OUTAGE_S}s erp_calls_in_outage={len(during)}"
            f" failures_before_open={breaker.failures_before_first_open}"
            f" opened_after={opened[0] - down_at:.2f}s transitions={len(breaker.transitions)}"
            f" (open={len(opened)}, half_open={len(probes)}) probes_in_outage={len(in_outage_probes)}"
            f" min_probe_gap={min(gaps, default=0):.2f}s saves={sum(attempts)} erp_calls_total={len(wire)}"
            f" drained_after_recovery={drained_at - up_at:.1f}s"
        )


async def _all_synced_at(pool: Any, n: int, timeout_s: float = 90) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await pool.fetchval("SELECT count(*) FROM erp_push_queue WHERE status = 'synced'") == n:
            return time.monotonic()
        await asyncio.sleep(0.05)
    raise AssertionError(f"backlog not drained within {timeout_s}s of recovery")
