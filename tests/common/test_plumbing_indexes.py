"""The plumbing's added indexes: applied to databases that already ran plumbing.sql, and used (issue 8)."""

from __future__ import annotations

import uuid
from importlib import resources
from pathlib import Path

import asyncpg
import pytest

from common.migrations import load_migrations, migrate
from common.outbox import CLAIM_LANE_SQL
from tests.support.schemas import plumbing_schema
from tests.support.stack import admin_dsn

pytestmark = pytest.mark.integration


async def test_a_database_migrated_before_the_new_indexes_gets_them_without_a_checksum_error() -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        original = resources.files("common").joinpath("sql/plumbing.sql").read_text("utf-8")
        assert await migrate(admin, schema, [("0000_plumbing.sql", original)]) == ["0000_plumbing.sql"]
        applied = await migrate(admin, schema, load_migrations(Path("/nonexistent")))
        assert applied == [
            "0000_plumbing_01_indexes.sql",
            "0000_plumbing_02_rate_limits.sql",
            "0000_plumbing_03_outbox_fillfactor.sql",
        ]
        indexes = {
            r["indexname"]
            for r in await admin.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = $1", schema)
        }
        assert {"outbox_unsent_topic", "inbox_attempts_last_failed_at"} <= indexes
        options = await admin.fetchval(
            "SELECT reloptions FROM pg_class WHERE oid = ($1 || '.outbox')::regclass", f'"{schema}"'
        )
        assert options == ["fillfactor=50"]  # room for the relay's claim as a HOT update (issue 12)
        assert await migrate(admin, schema, load_migrations(Path("/nonexistent"))) == []
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def test_the_priority_lane_claim_uses_the_topic_index_behind_a_bulk_backlog() -> None:
    """50 000 unsent rows of a bulk topic and ANALYZE: the planner itself picks the index (no enable_seqscan
    tricks). The statement is prepared, as asyncpg does, and explained a 7th time: by then the plan cache
    (plan_cache_mode auto) has had 5 custom plans to compare the generic one with."""
    async with plumbing_schema() as (_, pool):
        await pool.execute(
            "INSERT INTO outbox (id, topic, key, payload) SELECT gen_random_uuid(),"
            " CASE WHEN g % 10000 = 0 THEN 'prio' ELSE 'bulk' END, 'k', 'p' FROM generate_series(1, 50000) g"
        )
        await pool.execute("ANALYZE outbox")
        async with pool.acquire() as conn, conn.transaction():
            # PREPARE + EXPLAIN EXECUTE goes through the plan cache, as the relay's prepared statement does.
            await conn.execute(f"PREPARE claim(int, uuid, float8, text[]) AS {CLAIM_LANE_SQL}")
            explain = "EXPLAIN EXECUTE claim(10, gen_random_uuid(), 30, '{prio}')"
            for _ in range(6):
                await conn.fetch(explain)
            plan = "\n".join(r[0] for r in await conn.fetch(explain))
            await conn.execute("DEALLOCATE claim")
        assert "outbox_unsent_topic" in plan and "Seq Scan" not in plan, plan
