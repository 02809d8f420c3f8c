"""Prometheus metrics shared by every service, on a registry made in create_app (never at import)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Names follow Prometheus conventions: rollsync_<what>_<unit>, counters end in _total."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_consumed = Counter("rollsync_events_consumed", "Messages received", ["topic"], registry=r)
        self.events_applied = Counter(
            "rollsync_events_applied", "Events whose effect committed", ["topic"], registry=r
        )
        self.events_duplicate = Counter(
            "rollsync_events_duplicate", "Redeliveries absorbed by the inbox", ["topic"], registry=r
        )
        self.events_failed = Counter(
            "rollsync_events_failed", "Failed processing attempts", ["topic", "reason"], registry=r
        )
        self.events_dead_lettered = Counter(
            "rollsync_events_dead_lettered", "Events sent to <topic>.dlq", ["topic", "reason"], registry=r
        )
        self.events_produced = Counter(
            "rollsync_events_produced", "Events published by the outbox relay", ["topic"], registry=r
        )
        self.handler_seconds = Histogram(
            "rollsync_handler_duration_seconds",
            "Batch handler time",
            ["topic"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "rollsync_consumer_lag_messages",
            "High watermark minus next offset",
            ["topic", "partition"],
            registry=r,
        )
        self.outbox_backlog = Gauge("rollsync_outbox_backlog_rows", "Unsent outbox rows", registry=r)
        self.outbox_oldest_age = Gauge(
            "rollsync_outbox_oldest_age_seconds", "Age of the oldest unsent outbox row", registry=r
        )
        self.retention_rows_pruned = Counter(
            "rollsync_retention_rows_pruned", "Rows deleted by retention", ["table"], registry=r
        )
        # RollsyncRetentionFailing alerts on this: a round that raised (the loop tries again next interval).
        self.retention_runs_failed = Counter(
            "rollsync_retention_runs_failed", "Retention rounds that ended in an error", registry=r
        )
        self.http_requests = Counter(
            "rollsync_http_requests", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.http_seconds = Histogram(
            "rollsync_http_request_duration_seconds",
            "HTTP latency",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self._refreshers: list[Callable[[], Awaitable[None]]] = []

    def on_scrape(self, refresh: Callable[[], Awaitable[None]]) -> None:
        """Gauges read from the database are refreshed when /metrics is scraped."""
        self._refreshers.append(refresh)

    async def refresh(self) -> None:
        for refresh in self._refreshers:
            await refresh()
