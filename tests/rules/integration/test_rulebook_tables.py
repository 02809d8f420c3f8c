"""The seeded tables hold seed 004's rules, and a change reaches every replica at its next evaluation."""

from __future__ import annotations

import asyncpg
import pytest

from rules.adapters import rulebook_store as store
from rules.adapters.rulebook_store import PostgresRuleSource
from rules.domain.default_rules import DEFAULT_RULES
from rules.domain.fields import DEFAULT_POLICY
from rules.domain.rule_config import CONFIG
from rules.domain.rule_parsing import build_book
from rules.service_layer.rulebook_cache import RuleBookCache

pytestmark = pytest.mark.integration


async def test_the_migration_seeds_the_same_rules_config_and_policies_as_the_domain(
    rules_pool: asyncpg.Pool,
) -> None:
    async with rules_pool.acquire() as conn:
        version, rules, config, policies = await store.load(conn)
    book, problems = build_book(
        version, [r for r in rules if not r["name"].startswith("test_")], config, policies
    )
    assert problems == []
    assert {r.name: r for r in book.rules} == {r.name: r for r in DEFAULT_RULES}
    assert set(config) == set(CONFIG)
    assert policies == {k: DEFAULT_POLICY[k].value for k in policies}
    assert set(policies) >= {"phone", "company_name", "real_name", "email", "wechat_id", "intent_score"}


async def test_a_hand_written_sql_update_reaches_replicas_without_a_restart(rules_pool: asyncpg.Pool) -> None:
    replica_a = RuleBookCache(PostgresRuleSource(rules_pool))
    replica_b = RuleBookCache(PostgresRuleSource(rules_pool))
    name = "test_sql_edit"
    await rules_pool.execute(
        "INSERT INTO erp_sync_rules (rule_name, rule_priority, rule_conditions, rule_action, reason_template,"
        " is_active) VALUES ($1, 1, '[]', 'skip', 'r', 0)",
        name,
    )
    try:
        assert not next(r for r in (await replica_a.get()).rules if r.name == name).enabled
        assert not next(r for r in (await replica_b.get()).rules if r.name == name).enabled
        # the seed's FAQ Q4: edit the table by hand, no reload call
        await rules_pool.execute("UPDATE erp_sync_rules SET is_active = 1 WHERE rule_name = $1", name)
        for replica in (replica_a, replica_b):
            assert next(r for r in (await replica.get()).rules if r.name == name).enabled
    finally:
        await rules_pool.execute("DELETE FROM erp_sync_rules WHERE rule_name = $1", name)
    assert name not in {r.name for r in (await replica_a.get()).rules}
