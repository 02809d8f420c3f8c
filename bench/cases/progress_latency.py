"""G7: PUT progress → visible in the pending-updates feed, open loop, against the raw chain."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.baselines.raw_produce import delete_topic, fresh_topic
from bench.common import admin, summary_ms
from tests.support.api import bearer
from tests.support.stack import KAFKA_BOOTSTRAP, admin_dsn

TRIGGER = """
CREATE OR REPLACE FUNCTION transform.bench_feed_notify() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_notify('bench_feed', NEW.updated_by); RETURN NEW; END $$;
CREATE TRIGGER bench_feed_notify AFTER INSERT ON transform.change_feed
  FOR EACH ROW EXECUTE FUNCTION transform.bench_feed_notify();
"""
UNTRIGGER = (
    "DROP TRIGGER IF EXISTS bench_feed_notify ON transform.change_feed;"
    " DROP FUNCTION IF EXISTS transform.bench_feed_notify();"
)


class Watcher:
    """Visibility times by id, from a LISTEN connection (benchmark-only trigger on the feed table)."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.conn: asyncpg.Connection | None = None

    async def start(self, channel: str) -> None:
        self.conn = await asyncpg.connect(admin_dsn())
        await self.conn.add_listener(channel, lambda *a: self.seen.setdefault(a[3], time.perf_counter()))

    async def stop(self) -> None:
        if self.conn:
            await self.conn.close()


async def _open_loop(count: int, rate: float, send: object) -> dict[str, float]:
    """Fire at fixed intended times; latency is measured from the intended time (no coordinated omission)."""
    intended: dict[str, float] = {}
    start, tasks = time.perf_counter() + 0.05, []
    for i in range(count):
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        key = f"b{uuid.uuid4().hex[:10]}"
        intended[key] = at
        tasks.append(asyncio.create_task(send(key, i)))  # type: ignore[operator]
    await asyncio.gather(*tasks)
    return intended


async def _latencies(intended: dict[str, float], watcher: Watcher, timeout_s: float = 30) -> list[float]:
    deadline = time.monotonic() + timeout_s
    while len([k for k in intended if k in watcher.seen]) < len(intended) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    missing = [k for k in intended if k not in watcher.seen]
    if missing:
        raise RuntimeError(f"{len(missing)} progress updates never became visible")
    return [watcher.seen[k] - t for k, t in intended.items()]


async def ours(
    http: httpx.AsyncClient, ingest_url: str, token: str, contracts: list[str], count: int, rate: float
) -> dict[str, float]:
    conn = await admin()
    await conn.execute(TRIGGER)
    watcher = Watcher()
    await watcher.start("bench_feed")
    try:

        async def send(key: str, i: int) -> None:
            body = {
                "检验": "进行中" if i % 2 else "待检",
                "updated_by": key,
                "update_time": datetime.now(UTC).isoformat(),
            }
            r = await http.put(
                f"{ingest_url}/sync/contracts/{contracts[i % len(contracts)]}/progress",
                json=body,
                headers=bearer(token),
            )
            r.raise_for_status()

        return summary_ms(await _latencies(await _open_loop(count, rate, send), watcher))
    finally:
        await watcher.stop()
        await conn.execute(UNTRIGGER)
        await conn.close()


async def raw_chain(http: httpx.AsyncClient, noop_url: str, count: int, rate: float) -> dict[str, float]:
    """No-op HTTP round trip + raw produce → consume + raw single-row insert committed (NOTIFY)."""
    topic, table = await fresh_topic(1), f"bench_raw_{uuid.uuid4().hex[:8]}"
    conn = await admin()
    await conn.execute(
        f"CREATE TABLE public.{table} (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())"
    )
    watcher = Watcher()
    await watcher.start(table)
    producer = AIOKafkaProducer(
        bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", enable_idempotence=True, linger_ms=0
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA_BOOTSTRAP,
        group_id=f"raw-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=5,
    )
    await producer.start()
    await consumer.start()
    writer = await asyncpg.connect(admin_dsn())

    async def apply() -> None:
        async for record in consumer:
            key = record.value.decode()
            async with writer.transaction():
                await writer.execute(f"INSERT INTO public.{table} (id) VALUES ($1)", key)
                await writer.execute("SELECT pg_notify($1, $2)", table, key)
            await consumer.commit()

    applier = asyncio.create_task(apply())
    try:

        async def send(key: str, _: int) -> None:
            (await http.get(noop_url)).raise_for_status()
            await producer.send_and_wait(topic, key.encode())

        return summary_ms(await _latencies(await _open_loop(count, rate, send), watcher))
    finally:
        applier.cancel()
        await producer.stop()
        await consumer.stop()
        await watcher.stop()
        await writer.close()
        await conn.execute(f"DROP TABLE public.{table}")
        await conn.close()
        await delete_topic(topic)
