"""Clients' last-seen times (issue 9, contract point 6): throttled writes, replicas that agree, scrape-time gauges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from common.metrics import Metrics
from ingest.adapters.unit_of_work import begin
from ingest.service_layer.heartbeat import LastSeen, last_seen_gauges
from tests.support.schemas import scratch_schema

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "ingest" / "migrations"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with scratch_schema(MIGRATIONS, prefix="ing") as (_, pool):
        await pool.execute(
            "INSERT INTO clients (client_id, secret_hash, scopes) VALUES"
            " ('agent', 'x', '{contracts:write,sync:read}'), ('app', 'x', '{progress:write}'),"
            " ('old', 'x', '{contracts:write}')"
        )
        await pool.execute("UPDATE clients SET disabled = true WHERE client_id = 'old'")
        yield pool


async def _seen(pool: asyncpg.Pool, client_id: str) -> float | None:
    value = await pool.fetchval(
        "SELECT extract(epoch FROM last_seen_at)::float8 FROM clients WHERE client_id = $1", client_id
    )
    return float(value) if value is not None else None


async def test_a_busy_client_costs_one_write_per_interval_not_one_per_request(pool: asyncpg.Pool) -> None:
    clock = Clock()
    seen = LastSeen(partial(begin, pool), every_s=30, clock=clock)
    await seen.touch("agent")
    first = await _seen(pool, "agent")
    assert first is not None
    await pool.execute("UPDATE clients SET last_seen_at = '2020-01-01Z' WHERE client_id = 'agent'")
    for _ in range(50):
        clock.now += 0.5  # 25 s of calls: inside the interval, nothing written
        await seen.touch("agent")
    assert await _seen(pool, "agent") == 1577836800.0
    clock.now += 5
    await seen.touch("agent")
    assert (await _seen(pool, "agent") or 0) >= first


async def test_replicas_writing_concurrently_never_move_the_time_backwards(pool: asyncpg.Pool) -> None:
    replicas = [LastSeen(partial(begin, pool), every_s=0) for _ in range(4)]
    await asyncio.gather(*(r.touch("agent") for r in replicas for _ in range(10)))
    latest = await _seen(pool, "agent")
    await pool.execute(
        "UPDATE clients SET last_seen_at = last_seen_at + interval '1 hour' WHERE client_id = 'agent'"
    )
    await replicas[0].touch("agent")  # a replica whose clock-of-record is behind the stored time
    assert await _seen(pool, "agent") == (latest or 0) + 3600


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


SEEN = "rollsync_client_last_seen_timestamp_seconds"


async def test_the_gauges_come_from_the_database_at_scrape_time(pool: asyncpg.Pool) -> None:
    metrics = Metrics("ingest")
    refresh = last_seen_gauges(partial(begin, pool), metrics)
    await LastSeen(partial(begin, pool), every_s=30).touch("agent")
    await pool.execute("UPDATE clients SET last_seen_at = now() WHERE client_id = 'old'")
    await refresh()
    samples = _samples(metrics)
    assert samples[(SEEN, (("client_id", "agent"),))] == pytest.approx(await _seen(pool, "agent"))
    assert (SEEN, (("client_id", "app"),)) not in samples  # never called
    assert not [k for k in samples if ("client_id", "old") in k[1]]  # disabled: not expected to call
    info = "rollsync_client_scope_info"
    assert samples[(info, (("client_id", "agent"), ("scope", "contracts:write")))] == 1
    assert samples[(info, (("client_id", "app"), ("scope", "progress:write")))] == 1
    await pool.execute("UPDATE clients SET last_seen_at = '2020-01-01Z' WHERE client_id = 'agent'")
    await refresh()  # another replica's write shows up on this one's next scrape
    assert _samples(metrics)[(SEEN, (("client_id", "agent"),))] == 1577836800.0
