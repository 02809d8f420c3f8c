"""Every retention policy of every service finds its rows through an index on its age column (issue 8).

Each service's migrations go into a scratch schema; the pruner's own DELETE is explained with
enable_seqscan off, which proves an index exists whose condition matches the age test (it does not say the
planner would prefer it on a small table, only that it can use it as the table grows).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from common.retention import RetentionPolicy, plumbing_policies
from common.settings import RetentionSettings
from erp_connector.adapters.retention import retention_policies as erp_policies
from erp_connector.config import ErpRetention
from ingest.adapters.retention import retention_policies as ingest_policies
from ingest.config import IngestRetention
from rules.adapters.retention import retention_policies as rules_policies
from rules.config import RulesRetention
from tests.support.schemas import scratch_schema
from transform.adapters.feed import retention_policy as feed_policy

pytestmark = pytest.mark.integration
SERVICES = Path(__file__).resolve().parents[2] / "services"
CASES: dict[str, list[RetentionPolicy]] = {
    "ingest": ingest_policies(IngestRetention()),
    "transform": [feed_policy(30)],
    "rules": rules_policies(RulesRetention()),
    "erp-connector": erp_policies(ErpRetention()),
}


@pytest.mark.parametrize("service", sorted(CASES))
async def test_each_policy_reaches_its_rows_through_an_index_on_its_age_column(service: str) -> None:
    policies = [*plumbing_policies(RetentionSettings()), *CASES[service]]
    schema = scratch_schema(SERVICES / service / "migrations", prefix="t_ret")
    async with schema as (_, pool), pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        for p in policies:
            rows = await conn.fetch("EXPLAIN " + p.delete_sql(), timedelta(days=1), 100)
            plan = "\n".join(r[0] for r in rows)
            age_conditions = [
                line for line in plan.splitlines() if "Index Cond" in line and f"{p.column} <" in line
            ]
            assert age_conditions, f"{p.table}.{p.column} has no index for retention:\n{plan}"
