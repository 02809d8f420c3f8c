"""Seed 004's FAQ Q4, its statements run verbatim against the migrated schema, do what the seed says."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
import pytest

from rules.adapters import rulebook_store as store
from rules.domain.facts import facts_of
from rules.domain.quality import score
from rules.domain.rule_parsing import build_book
from rules.domain.rulebook import Decision, RuleBook, evaluate

pytestmark = pytest.mark.integration

# 15 + 20 + 15 (intent 60) = 50 … with the phone verified: 30 + 20 + 15 = 65; company verified too: 30 + 30 + 15 = 75
SCORE_75 = {
    "phone": "13800138000",
    "phone_verified": True,
    "company_name": "汕头宏达彩印有限公司",
    "company_name_verified": True,
    "intent_score": 60,
    "message_count": 20,
}
LOW_INTENT = {**SCORE_75, "intent_score": 10, "has_order": False}


async def book_in(conn: asyncpg.Connection) -> RuleBook:
    """The rule book as a replica loads it, read inside the test's transaction."""
    rules = [store.rule_row(r) for r in await conn.fetch("SELECT * FROM erp_sync_rules")]
    config = {
        r["config_key"]: orjson.loads(r["config_value"])
        for r in await conn.fetch("SELECT config_key, config_value FROM erp_sync_config")
    }
    policies = {r["field_name"]: r["strategy"] for r in await conn.fetch("SELECT * FROM field_policies")}
    book, problems = build_book(await store.version(conn), rules, config, policies)
    assert problems == []
    return book


def decide(customer: dict[str, Any], book: RuleBook) -> Decision:
    return evaluate(facts_of(customer, score(customer)), book)


async def test_q4_view_the_active_rules_with_is_active_1(tx: asyncpg.Connection) -> None:
    rows = await tx.fetch("SELECT * FROM erp_sync_rules WHERE is_active = 1;")
    names = {r["rule_name"] for r in rows}
    assert {"mandatory_has_order", "high_quality_verified", "low_intent", "low_marked_invalid"} <= names
    assert all(r["is_active"] == 1 for r in rows)


async def test_q4_disabling_a_rule_with_is_active_0_takes_it_out_of_the_next_evaluation(
    tx: asyncpg.Connection,
) -> None:
    before = await book_in(tx)
    assert decide(LOW_INTENT, before).rule == "low_intent"
    status = await tx.execute("""
UPDATE erp_sync_rules
SET is_active = 0
WHERE rule_name = 'low_intent';
""")
    assert status == "UPDATE 1"
    after = await book_in(tx)
    assert after.version > before.version  # every replica reloads at its next evaluation
    assert not next(r for r in after.rules if r.name == "low_intent").enabled
    assert decide(LOW_INTENT, after).rule != "low_intent"
    assert await tx.fetchval("SELECT count(*) FROM erp_sync_rules WHERE is_active = 1;") == len(
        after.active()
    )


async def test_q4_is_active_takes_only_0_or_1(tx: asyncpg.Connection) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await tx.execute("UPDATE erp_sync_rules SET is_active = 2 WHERE rule_name = 'low_intent'")


async def test_q4_min_quality_score_is_the_high_quality_threshold_as_in_the_seed(
    tx: asyncpg.Connection,
) -> None:
    before = await book_in(tx)
    assert score(SCORE_75).score == 75
    assert decide(SCORE_75, before).rule != "high_quality_verified"  # 75 < 80
    status = await tx.execute("""
UPDATE erp_sync_config
SET config_value = '70'
WHERE config_key = 'min_quality_score';
""")
    assert status == "UPDATE 1"
    after = await book_in(tx)
    decision = decide(SCORE_75, after)
    assert (decision.action, decision.rule) == ("CREATE", "high_quality_verified")
    # the lowest score for any sync is the seed's data_quality.min_score_for_sync, still 60
    assert after.config["min_score_for_sync"] == 60


SEED_TODAY = """
SELECT
    sync_direction,
    sync_result,
    COUNT(*) as count
FROM erp_sync_logs
WHERE DATE(synced_at) = DATE('now')
GROUP BY sync_direction, sync_result;
"""
SEED_FAILED_TODAY = """
SELECT * FROM erp_sync_logs
WHERE sync_result = 'failed'
  AND DATE(synced_at) = DATE('now');
"""


async def test_daily_health_check_runs_verbatim_and_agrees_with_v_sync_statistics(
    tx: asyncpg.Connection,
) -> None:
    customer_id = "cu_faq_health_check"
    await tx.execute("INSERT INTO customers_unified (id, code) VALUES ($1, 'KH-FAQ-HEALTH')", customer_id)
    base = {(r["sync_direction"], r["sync_result"]): r["count"] for r in await tx.fetch(SEED_TODAY)}
    failed_before = len(await tx.fetch(SEED_FAILED_TODAY))
    await tx.execute(
        "INSERT INTO sync_log (customer_id, sync_direction, sync_type, sync_result, synced_at) VALUES"
        " ($1, 'local_to_erp', 'push', 'failed', now()), ($1, 'local_to_erp', 'push', 'failed', now()),"
        " ($1, 'erp_to_local', 'pull', 'success', now()),"
        " ($1, 'local_to_erp', 'push', 'failed', now() - interval '2 days')",  # not today: not counted
        customer_id,
    )
    today = {(r["sync_direction"], r["sync_result"]): r["count"] for r in await tx.fetch(SEED_TODAY)}
    assert today[("local_to_erp", "failed")] == base.get(("local_to_erp", "failed"), 0) + 2
    assert today[("erp_to_local", "success")] == base.get(("erp_to_local", "success"), 0) + 1
    failed = await tx.fetch(SEED_FAILED_TODAY)
    assert len(failed) == failed_before + 2
    assert {r["customer_id"] for r in failed} >= {customer_id}
    view = {
        (r["sync_direction"], r["sync_result"]): r["count"]
        for r in await tx.fetch("SELECT * FROM v_sync_statistics WHERE sync_date = DATE('now')")
    }
    assert view == today
