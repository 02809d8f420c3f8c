"""The relay's metrics, on a registry made per app (nothing registered at import time)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

ROBOTS = ("wecom", "dingtalk")
OUTCOMES = ("sent", "failed", "not_configured")


class RelayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "rollsync_alert_relay_messages",
            "Alertmanager notifications relayed to a group robot, by robot and outcome",
            ["robot", "outcome"],
            registry=self.registry,
        )
        for robot in ROBOTS:  # exported at 0 from the start, so the first failure is an increase
            for outcome in OUTCOMES:
                self.messages.labels(robot, outcome)
