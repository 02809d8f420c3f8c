"""A SIGTERM must end within 25 s of the pods' 30 s grace period (DELIVERY.md §12 R4, faststream #1648)."""

from __future__ import annotations

from pathlib import Path

from common.kafka import CONSUMER_DRAIN_S
from common.runner import HTTP_DRAIN_S
from common.service import CLOSE_S

GRACE_S, STOP_LIMIT_S = 30, 25
RELAY_AND_EXIT_S = 2  # relay tasks cancelled, producer flushed, interpreter exit (R4 measures the whole)


def test_the_shutdown_steps_fit_in_the_stop_limit() -> None:
    # uvicorn drains requests, then the lifespan stops consumers, relay and pool one after the other.
    assert HTTP_DRAIN_S + CONSUMER_DRAIN_S + CLOSE_S + RELAY_AND_EXIT_S <= STOP_LIMIT_S


def test_every_deployment_gives_the_grace_period_the_budget_assumes() -> None:
    deployments = sorted(Path(__file__).parents[2].glob("deploy/k8s/base/*/deployment.yaml"))
    assert deployments
    for d in deployments:
        assert f"terminationGracePeriodSeconds: {GRACE_S}" in d.read_text(), d
