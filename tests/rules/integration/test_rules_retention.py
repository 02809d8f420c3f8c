"""rules' retention, seed 004's ages: change history and decisions 90 days, sync log 30 days (issue 8)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from common.metrics import Metrics
from common.retention import Pruner
from rules.adapters.retention import retention_policies
from rules.config import RulesRetention
from tests.support.schemas import scratch_schema

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "rules" / "migrations"


async def test_history_log_and_decisions_go_after_their_seed_ages_only() -> None:
    async with scratch_schema(MIGRATIONS, prefix="t_rul") as (_, pool):
        customer = f"cu_{uuid.uuid4().hex}"
        await pool.execute("INSERT INTO customers_unified (id, code) VALUES ($1, 'KH-T1')", customer)
        for days in (91, 89):
            await pool.execute(
                "INSERT INTO field_change_history (customer_id, field_name, change_type, change_reason, trigger,"
                " changed_at) VALUES ($1, 'phone', 'fill', 'r', 'erp_pull', now() - make_interval(days => $2))",
                customer,
                days,
            )
            await pool.execute(
                "INSERT INTO sync_decisions (customer_id, rule_name, action, reason, confidence, quality_score,"
                " emitted, trigger, rulebook_version, decided_at)"
                " VALUES ($1, 'r', 'SKIP', 'x', 1, 0, false, 't', 1, now() - make_interval(days => $2))",
                customer,
                days,
            )
        for days in (31, 29):
            await pool.execute(
                "INSERT INTO sync_log (customer_id, sync_direction, sync_type, sync_result, synced_at)"
                " VALUES ($1, 'erp_to_local', 'pull', 'success', now() - make_interval(days => $2))",
                customer,
                days,
            )
        for version, days, result in ((1, 91, "synced"), (2, 91, None), (3, 89, "failed")):
            await pool.execute(
                "INSERT INTO sync_requests (customer_id, version, action, fields, rule_name, reason, result,"
                " completed_at) VALUES ($1, $2, 'create', '{}', 'r', 'x', $3,"
                " CASE WHEN $3::text IS NULL THEN NULL ELSE now() - make_interval(days => $4) END)",
                customer,
                version,
                result,
                days,
            )
        metrics = Metrics("rules")
        pruner = Pruner(pool, retention_policies(RulesRetention()), metrics, interval_s=3600, batch_size=100)
        pruned = await pruner.prune_once()
        assert pruned == {"field_change_history": 1, "sync_log": 1, "sync_decisions": 1, "sync_requests": 1}
        # the request still waiting for its result stays, however old
        assert await pool.fetchval("SELECT array_agg(version ORDER BY version) FROM sync_requests") == [2, 3]
        for table in ("field_change_history", "sync_log", "sync_decisions"):
            assert await pool.fetchval(f"SELECT count(*) FROM {table}") == 1, table
            sample = metrics.registry.get_sample_value(
                "rollsync_retention_rows_pruned_total", {"table": table}
            )
            assert sample == 1, table
