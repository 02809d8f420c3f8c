"""Issue 8 (5.8): a push worker whose claim expired stops before its next ERP call.

The worker's first ERP call is held at a gate; meanwhile its lease runs out and another worker claims
the row. When the gate opens, the first worker must notice (the lease renewal touches no row) and send
nothing more: no lookup, no allocation, no save. Deterministic: no timing races, the gate decides.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from erp_connector.bootstrap import units_of_work
from erp_connector.domain.customer import ErpCustomer
from erp_connector.domain.rate_limit import RetryBudget
from erp_connector.service_layer.push import PushPolicy, PushWorker
from erp_connector.service_layer.push_outcomes import PushOutcomes
from tests.erp_connector.harness import (
    CONSUMER,
    company,
    control_for,
    enqueue,
    erp,
    erp_schema,
    metrics,
    sync_request,
)

pytestmark = pytest.mark.integration


class GatedClient:
    """The real client, except that `find_by_code` (a push's first ERP call) waits for the test."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.entered, self.gate = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def find_by_code(self, code: str) -> ErpCustomer | None:
        self.entered.set()
        await self.gate.wait()
        result: ErpCustomer | None = await self._inner.find_by_code(code)
        return result


async def test_a_worker_that_lost_its_lease_sends_nothing_more_to_the_erp() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        control = await control_for(pool, e.client, m)
        gated = GatedClient(e.client)
        policy = PushPolicy(10, 1, 8, 24, 0.01, 0.1, 0.0, 30.0, {"sort1": "101"})
        uow = units_of_work(pool, schema).begin
        worker = PushWorker(
            uow, gated, control, m, RetryBudget(10.0, 1000.0), policy, PushOutcomes(uow, CONSUMER)
        )
        await enqueue(pool, sync_request("lease-1", "KH-700001", company(1)))
        before = await e.state()

        run = asyncio.create_task(worker.run())
        await asyncio.wait_for(gated.entered.wait(), 10)  # the worker holds the claim, mid-call
        await pool.execute("UPDATE erp_push_queue SET claimed_until = now() - interval '1 second'")
        async with uow() as other:  # another worker takes the expired claim
            [stolen] = await other.pushes.claim(10, 30.0)
            await other.commit()
        gated.gate.set()
        report = await asyncio.wait_for(run, 10)

        after = await e.state()
        calls = {
            path: n - before["requests_by_path"].get(path, 0)
            for path, n in after["requests_by_path"].items()
            if n != before["requests_by_path"].get(path, 0)
        }
        # Only the gated lookup by code (a list call) went out; nothing after the lease was lost.
        assert all("add.asp" not in path for path in calls), calls
        assert after["saves"] == before["saves"]
        assert (report.synced, report.dead) == (0, 0)
        row = await pool.fetchrow("SELECT status, claim_token, attempts FROM erp_push_queue")
        assert (row["status"], str(row["claim_token"]), row["attempts"]) == (
            "in_flight",
            stolen.claim_token,
            0,
        )
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0  # no completion from the loser
