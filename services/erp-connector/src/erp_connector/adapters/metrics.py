"""erp-connector's own Prometheus metrics, on the service registry made in create_app."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from erp_connector.adapters.erp_transport import CallRecord

_CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
RUN_STATES = ("running", "paused", "stopped_auth")


class ErpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.calls = Counter(
            "rollsync_erp_calls",
            "ERP API calls by operation and outcome",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.call_seconds = Histogram(
            "rollsync_erp_call_duration_seconds",
            "ERP call latency",
            ["endpoint"],
            buckets=_CALL_BUCKETS,
            registry=r,
        )
        self.budget_remaining = Gauge(
            "rollsync_erp_budget_remaining",
            "Tokens left in the client-side ERP rate limit bucket",
            registry=r,
        )
        self.circuit_state = Gauge(
            "rollsync_erp_circuit_state", "ERP circuit breaker: 0 closed, 1 half-open, 2 open", registry=r
        )
        self.login_failures = Counter(
            "rollsync_erp_login_failures", "ERP logins rejected (bad credentials or captcha)", registry=r
        )
        self.push_backlog = Gauge("rollsync_erp_push_backlog", "Pushes queued or in flight", registry=r)
        self.sync_failures = Counter(
            "rollsync_erp_sync_failures", "Failed pulls and failed pushes", ["direction"], registry=r
        )
        for direction in ("pull", "push"):  # at 0 from the start: increase() misses a series born at 12
            self.sync_failures.labels(direction)
        self.connector_state = Gauge(
            "rollsync_erp_connector_state", "1 for the connector's current run state", ["state"], registry=r
        )
        self.pulled = Counter(
            "rollsync_erp_pulled_customers", "Customers seen by pulls, by change", ["change"], registry=r
        )
        self.pushes = Counter("rollsync_erp_pushes", "Finished pushes by result", ["result"], registry=r)

    def watch(self, budget: Callable[[], float], circuit: Callable[[], float]) -> None:
        self.budget_remaining.set_function(budget)
        self.circuit_state.set_function(circuit)

    def set_state(self, state: str) -> None:
        for name in RUN_STATES:
            self.connector_state.labels(name).set(1 if name == state else 0)

    def push_ended(self, result: str) -> None:
        self.pushes.labels(result).inc()
        if result == "dead":
            self.sync_failures.labels("push").inc()

    def pull_failed(self) -> None:
        self.sync_failures.labels("pull").inc()

    def customers_pulled(self, new: int, changed: int, unchanged: int) -> None:
        self.pulled.labels("new").inc(new)
        self.pulled.labels("changed").inc(changed)
        self.pulled.labels("unchanged").inc(unchanged)

    def observe_call(self, record: CallRecord) -> None:
        self.calls.labels(record.operation, record.outcome).inc()
        if record.outcome != "circuit_open":
            self.call_seconds.labels(record.operation).observe(record.duration_s)
        if record.operation == "login" and record.outcome in ("auth", "captcha"):
            self.login_failures.inc()
