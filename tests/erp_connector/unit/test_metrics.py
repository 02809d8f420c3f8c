"""The connector's metrics: names, labels and what moves them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from erp_connector.adapters.erp_transport import CallRecord
from erp_connector.adapters.metrics import ErpMetrics


def test_calls_login_failures_state_and_gauges_are_exported() -> None:
    registry = CollectorRegistry()
    m = ErpMetrics(registry)
    m.watch(lambda: 3.5, lambda: 2.0)
    m.observe_call(CallRecord("customer_list", "/l", "ok", 0.02))
    m.observe_call(CallRecord("login", "/login", "auth", 0.01))
    m.observe_call(CallRecord("login", "/login", "captcha", 0.01))
    m.observe_call(CallRecord("customer_save", "/s", "circuit_open", 0.0))
    m.set_state("stopped_auth")
    m.sync_failures.labels("push").inc()
    text = generate_latest(registry).decode()
    assert 'rollsync_erp_calls_total{endpoint="customer_list",outcome="ok"} 1.0' in text
    assert "rollsync_erp_login_failures_total 2.0" in text
    assert 'rollsync_erp_connector_state{state="stopped_auth"} 1.0' in text
    assert 'rollsync_erp_connector_state{state="running"} 0.0' in text
    assert "rollsync_erp_budget_remaining 3.5" in text and "rollsync_erp_circuit_state 2.0" in text
    assert 'rollsync_erp_sync_failures_total{direction="push"} 1.0' in text
    assert (
        'rollsync_erp_call_duration_seconds_count{endpoint="customer_save"}' not in text
    )  # nothing was sent
    assert "rollsync_erp_push_backlog 0.0" in text


def test_sync_failures_start_at_zero_so_the_first_burst_after_a_start_counts_in_increase() -> None:
    # Prometheus' increase() sees nothing when a series first appears at 12: RollsyncErpSyncFailures (seed 004,
    # > 10 in 1 h) would miss the first burst after every restart unless both series exist at 0 from the start.
    registry = CollectorRegistry()
    ErpMetrics(registry)
    for direction in ("pull", "push"):
        assert registry.get_sample_value("rollsync_erp_sync_failures_total", {"direction": direction}) == 0
