"""The shared pruner on a real PostgreSQL: what goes, what never goes, batches, the metric (issue 8)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from common.metrics import Metrics
from common.retention import Pruner, RetentionPolicy, plumbing_policies
from common.settings import RetentionSettings
from tests.support.api import eventually
from tests.support.schemas import plumbing_schema

pytestmark = pytest.mark.integration


def _pruned(metrics: Metrics, table: str) -> float:
    value = metrics.registry.get_sample_value("rollsync_retention_rows_pruned_total", {"table": table})
    return value or 0.0


def _pruner(pool: Any, metrics: Metrics, batch: int = 1000) -> Pruner:
    return Pruner(pool, plumbing_policies(RetentionSettings()), metrics, interval_s=3600, batch_size=batch)


async def _outbox(pool: Any, *, sent_days_ago: int | None, created_days_ago: int) -> uuid.UUID:
    row_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO outbox (id, topic, key, payload, created_at, sent_at) VALUES ($1, 't', 'k', 'p',"
        " now() - make_interval(days => $2), now() - make_interval(days => $3))",
        row_id,
        created_days_ago,
        sent_days_ago,
    )
    return row_id


async def test_sent_outbox_rows_past_the_window_go_and_unsent_rows_never_do() -> None:
    async with plumbing_schema() as (_, pool):
        old_sent = await _outbox(pool, sent_days_ago=8, created_days_ago=8)
        young_sent = await _outbox(pool, sent_days_ago=6, created_days_ago=30)
        old_unsent = await _outbox(pool, sent_days_ago=None, created_days_ago=400)
        metrics = Metrics("t")
        assert (await _pruner(pool, metrics).prune_once())["outbox"] == 1
        left = {r["id"] for r in await pool.fetch("SELECT id FROM outbox")}
        assert old_sent not in left and left == {young_sent, old_unsent}
        assert _pruned(metrics, "outbox") == 1


async def test_inbox_and_attempt_rows_stay_for_topic_retention_plus_the_dlq_window() -> None:
    async with plumbing_schema() as (_, pool):
        for days in (41, 36, 1):  # 36 days: a DLQ replay may still come (7 d topic + 30 d DLQ)
            await pool.execute(
                "INSERT INTO inbox (consumer, event_id, outcome, received_at)"
                " VALUES ('c', $1, 'applied', now() - make_interval(days => $2))",
                uuid.uuid4(),
                days,
            )
            await pool.execute(
                "INSERT INTO inbox_attempts (consumer, event_id, attempts, last_error, last_failed_at)"
                " VALUES ('c', $1, 1, 'x', now() - make_interval(days => $2))",
                uuid.uuid4(),
                days,
            )
        metrics = Metrics("t")
        pruned = await _pruner(pool, metrics).prune_once()
        assert pruned == {"outbox": 0, "inbox": 1, "inbox_attempts": 1, "rate_limit_hits": 0}
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 2
        assert await pool.fetchval("SELECT count(*) FROM inbox_attempts") == 2
        assert _pruned(metrics, "inbox") == 1 and _pruned(metrics, "inbox_attempts") == 1


async def test_rate_limit_windows_go_once_a_day_window_is_long_over() -> None:
    async with plumbing_schema() as (_, pool):
        for bucket, hours in (("client:c:day", 49), ("client:c:day", 23), ("client:c:minute", 0)):
            await pool.execute(
                "INSERT INTO rate_limit_hits (bucket, window_start, hits)"
                " VALUES ($1, now() - make_interval(hours => $2), 1)",
                bucket,
                hours,
            )
        assert (await _pruner(pool, Metrics("t")).prune_once())["rate_limit_hits"] == 1
        assert await pool.fetchval("SELECT count(*) FROM rate_limit_hits") == 2


async def test_a_backlog_is_deleted_in_bounded_batches_until_none_is_left() -> None:
    async with plumbing_schema() as (_, pool):
        await pool.execute(
            "INSERT INTO outbox (id, topic, key, payload, sent_at) SELECT gen_random_uuid(), 't', 'k', 'p',"
            " now() - interval '30 days' FROM generate_series(1, 25)"
        )
        statements: list[str] = []

        class Counting:  # the pruner only needs execute(); record each statement's status
            async def execute(self, sql: str, *args: object) -> str:
                status: str = await pool.execute(sql, *args)
                statements.append(status)
                return status

        metrics = Metrics("t")
        assert (await _pruner(Counting(), metrics, batch=10).prune_once())["outbox"] == 25
        assert statements[:3] == ["DELETE 10", "DELETE 10", "DELETE 5"]  # 3 short transactions, not one
        assert _pruned(metrics, "outbox") == 25


async def test_the_runtime_loop_prunes_without_being_asked() -> None:
    async with plumbing_schema() as (_, pool):
        await _outbox(pool, sent_days_ago=10, created_days_ago=10)
        metrics = Metrics("t")
        pruner = _pruner(pool, metrics)
        pruner.start()
        try:

            async def emptied() -> bool:
                return bool(await pool.fetchval("SELECT count(*) FROM outbox") == 0)

            await eventually(emptied, timeout_s=10, every_s=0.05)
        finally:
            await pruner.stop()
        assert _pruned(metrics, "outbox") == 1


def test_policies_take_only_plain_identifiers_and_one_policy_per_table() -> None:
    with pytest.raises(ValueError, match="identifier"):
        RetentionPolicy("outbox; DROP TABLE x", "sent_at", timedelta(days=1))
    with pytest.raises(ValueError, match="positive"):
        RetentionPolicy("outbox", "sent_at", timedelta(0))
    twice = [RetentionPolicy("inbox", "received_at", timedelta(days=40))] * 2
    with pytest.raises(ValueError, match="one retention policy per table"):
        Pruner(None, twice, Metrics("t"), interval_s=1, batch_size=1)


def test_the_inbox_window_cannot_be_set_below_topic_retention_plus_the_dlq_window() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 37"):
        RetentionSettings(inbox_days=30)


async def test_a_failing_round_is_counted_for_the_retention_alert_and_the_loop_goes_on() -> None:
    rounds: list[str] = []

    class Broken:
        async def execute(self, sql: str, *args: object) -> str:
            rounds.append(sql)
            raise ConnectionResetError("database went away")

    metrics = Metrics("t")
    pruner = Pruner(Broken(), plumbing_policies(RetentionSettings()), metrics, interval_s=0.01, batch_size=10)
    pruner.start()
    try:

        async def failed_twice() -> bool:
            value = metrics.registry.get_sample_value("rollsync_retention_runs_failed_total")
            return (value or 0.0) >= 2

        await eventually(failed_twice, timeout_s=10, every_s=0.02)
    finally:
        await pruner.stop()
    assert len(rounds) >= 2  # the loop kept trying after the first failure
