"""ingest's retention: idempotency keys kept >= 24 h, rate counters after their window (issue 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.metrics import Metrics
from common.retention import Pruner
from ingest.adapters.retention import retention_policies
from ingest.config import IngestRetention
from tests.support.schemas import scratch_schema

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "ingest" / "migrations"


async def test_idempotency_records_and_rate_counters_go_only_after_their_windows() -> None:
    async with scratch_schema(MIGRATIONS, prefix="t_ing") as (_, pool):
        for key, hours in (("old", 49), ("day-old", 25)):  # 25 h: a retry a day later still gets its answer
            await pool.execute(
                "INSERT INTO idempotency (client_id, key, request_hash, status, response, created_at)"
                " VALUES ('c', $1, 'h', 200, 'r', now() - make_interval(hours => $2))",
                key,
                hours,
            )
        for bucket, hours in (("c:day", 50), ("c:day", 23), ("c:minute", 0)):
            await pool.execute(
                "INSERT INTO rate_counters (bucket, window_start, hits)"
                " VALUES ($1, now() - make_interval(hours => $2), 1)",
                bucket,
                hours,
            )
        metrics = Metrics("ingest")
        policies = retention_policies(IngestRetention())
        pruner = Pruner(pool, policies, metrics, interval_s=3600, batch_size=100)
        assert await pruner.prune_once() == {"idempotency": 1, "rate_counters": 1}
        assert await pool.fetchval("SELECT array_agg(key) FROM idempotency") == ["day-old"]
        assert await pool.fetchval("SELECT count(*) FROM rate_counters") == 2
        sample = metrics.registry.get_sample_value
        assert sample("rollsync_retention_rows_pruned_total", {"table": "idempotency"}) == 1


def test_idempotency_keys_cannot_be_kept_less_than_a_day() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 24"):
        IngestRetention(idempotency_hours=23)
