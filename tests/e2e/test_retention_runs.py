"""Every running service prunes its plumbing and its own tables at start-up and says so in /metrics (issue 8)."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from tests.support.api import eventually
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
PLUMBING = ("outbox", "inbox", "inbox_attempts", "rate_limit_hits")
OWN = {
    "ingest": ("idempotency", "rate_counters"),
    "transform": ("change_feed",),
    "rules": ("field_change_history", "sync_log", "sync_decisions", "sync_requests"),
    "erp-connector": ("erp_sync_logs", "erp_api_logs", "erp_push_attempts", "erp_push_requests"),
}


@pytest.mark.parametrize("service", sorted(OWN))
async def test_the_service_ran_a_pruning_round_over_its_policies(
    service: str, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    async def pruned_tables() -> set[str]:
        text = (await http.get(f"{services[service].url}/metrics")).text
        prefix = 'rollsync_retention_rows_pruned_total{table="'
        return {line[len(prefix) :].split('"')[0] for line in text.splitlines() if line.startswith(prefix)}

    expected = {*PLUMBING, *OWN[service]}

    async def all_seen() -> bool:
        return await pruned_tables() == expected

    with contextlib.suppress(AssertionError):  # the first round runs as the service starts
        await eventually(all_seen, timeout_s=30)
    assert await pruned_tables() == expected
