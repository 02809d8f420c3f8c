"""Issue 8, defect 11: the consistency report names lost work. Each branch is made to fire by the state the
defect it guards against would leave behind, in a throwaway schema with transform's migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from tests.support.schemas import scratch_schema
from transform.adapters.queries import consistency

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "transform" / "migrations"
T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)
LOST = ("reports_not_applied", "reports_missing_from_feed", "lines_not_materialised")


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with scratch_schema(MIGRATIONS, prefix="tc") as (_, pool):
        await _healthy_line(pool, "HT1", "P1")
        yield pool


async def _healthy_line(pool: asyncpg.Pool, c: str, p: str) -> None:
    """A line with an applied report that the feed announced: nothing to report."""
    await pool.execute(
        "INSERT INTO hetong_original (contract_no, product_id, version, row, content_hash, source, client_id,"
        " received_at) VALUES ($1, $2, 1, '{}', 'h', 'local_system', 'dev', $3)",
        c,
        p,
        T0,
    )
    await pool.execute(
        "INSERT INTO line_receipts (contract_no, product_id, version, deleted) VALUES ($1, $2, 1, false)",
        c,
        p,
    )
    await pool.execute(
        "INSERT INTO contracts (contract_no, product_id, version, fields, extra_columns, issues, unknown_statuses)"
        " VALUES ($1, $2, 1, '{}', '{}', '[]', '{}')",
        c,
        p,
    )
    await pool.execute(
        "INSERT INTO products (contract_no, product_id, product_type, progress_percentage, current_process, finished)"
        " VALUES ($1, $2, 'anilox', 10, '喷砂', false)",
        c,
        p,
    )
    reported = T0 + timedelta(minutes=1)
    await pool.execute(
        "INSERT INTO product_processes (contract_no, product_id, process, seq, uploaded_status, uploaded_at,"
        " reported_status, reported_at, reported_by, report_received_at)"
        " VALUES ($1, $2, '基辊加工', 10, '进行中', $3, '已完成', $4, 'w', $4)",
        c,
        p,
        T0,
        reported,
    )
    await pool.execute(
        "INSERT INTO progress_reports (contract_no, product_id, process, status, version, updated_by, update_time,"
        " received_at) VALUES ($1, $2, '基辊加工', '已完成', 1, 'w', $3, $3)",
        c,
        p,
        reported,
    )
    await pool.execute(
        "INSERT INTO change_feed (contract_no, product_id, progress_percentage, current_process, updated_at,"
        " updated_by, recorded_at) VALUES ($1, $2, 10, '喷砂', $3, 'w', $3)",
        c,
        p,
        reported,
    )


async def _fired(pool: asyncpg.Pool) -> dict[str, list[tuple[str, str]]]:
    report = await consistency(pool)
    return {k: [(x["合同编号"], x["产品ID"]) for x in report[k]] for k in LOST}


async def test_a_consistent_schema_reports_no_lost_work(pool: asyncpg.Pool) -> None:
    assert await _fired(pool) == {k: [] for k in LOST}
    assert (await consistency(pool))["lines_dead_lettered"] == 0


async def test_a_report_stored_but_not_applied_to_its_line_fires(pool: asyncpg.Pool) -> None:
    # Defect 1's leftovers: the report row is newer than what the line holds (the import overwrote it).
    await pool.execute(
        "UPDATE progress_reports SET status = '返工', version = 2, received_at = received_at + interval '1 minute'"
    )
    assert await _fired(pool) == {**{k: [] for k in LOST}, "reports_not_applied": [("HT1", "P1")]}


async def test_a_contract_wide_report_missing_on_one_line_fires_for_that_line(pool: asyncpg.Pool) -> None:
    await _healthy_line(pool, "HT1", "P2")
    later = T0 + timedelta(minutes=5)
    await pool.execute(
        "INSERT INTO progress_reports (contract_no, product_id, process, status, version, updated_by, update_time,"
        " received_at) VALUES ('HT1', '', '基辊加工', '返工', 1, 'w', $1, $1)",
        later,
    )
    await pool.execute(
        "UPDATE product_processes SET reported_status = '返工', reported_at = $1, report_received_at = $1"
        " WHERE product_id = 'P1'",
        later,
    )
    await pool.execute("UPDATE change_feed SET updated_at = $1 WHERE product_id = 'P1'", later)
    assert (await _fired(pool))["reports_not_applied"] == [("HT1", "P2")]


async def test_an_applied_report_missing_from_the_feed_fires(pool: asyncpg.Pool) -> None:
    # Defect 2's leftovers: the line holds the report, the feed never heard of it.
    await _healthy_line(pool, "HT2", "P1")
    await pool.execute("DELETE FROM change_feed WHERE contract_no = 'HT2'")
    assert await _fired(pool) == {**{k: [] for k in LOST}, "reports_missing_from_feed": [("HT2", "P1")]}


async def test_a_report_older_than_the_feed_keeps_is_not_reported(pool: asyncpg.Pool) -> None:
    """Retention may drop old feed rows: only reports within what the feed still holds are checked."""
    await _healthy_line(pool, "HT2", "P1")
    await pool.execute("DELETE FROM change_feed WHERE contract_no = 'HT2'")
    await pool.execute("UPDATE change_feed SET recorded_at = $1", T0 + timedelta(hours=1))
    assert (await _fired(pool))["reports_missing_from_feed"] == []


async def test_a_line_consumed_but_not_materialised_fires(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO line_receipts (contract_no, product_id, version, deleted) VALUES ('HT3', 'P1', 1, false)"
    )
    await pool.execute("UPDATE line_receipts SET version = 2 WHERE contract_no = 'HT1'")
    assert await _fired(pool) == {
        **{k: [] for k in LOST},
        "lines_not_materialised": [("HT1", "P1"), ("HT3", "P1")],
    }


async def test_a_dead_lettered_line_event_is_counted(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO inbox (consumer, event_id, outcome) VALUES ('transform-lines', gen_random_uuid(), 'dead')"
    )
    assert (await consistency(pool))["lines_dead_lettered"] == 1
