"""History import: HTTP → ingest → Kafka → transform, against the raw reference pipeline (G4, G5, G6b)."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import orjson

from bench.baselines import raw_pipeline, raw_produce
from bench.baselines.raw_pipeline import decode_change
from bench.common import Ratio, Report, admin
from bench.scratch import transform_schema
from tests.support.api import bearer, create_client, login
from tests.support.generate import contract_rows
from tests.support.stack import ServiceProcess
from transform.adapters.lines_repository import save_lines
from transform.bootstrap import uow_factory, uow_on
from transform.domain.mapping import standardize
from transform.service_layer.configuration import ConfigurationCache
from transform.service_layer.lines import apply_lines, line_write

BATCH = 1000


async def _wait(probe: str, arg: object, want: int, timeout_s: float = 600) -> None:
    conn = await admin()
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await conn.fetchval(probe, arg) >= want:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{probe} did not reach {want}")
    finally:
        await conn.close()


async def http_import(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    rows: list[dict[str, object]],
    rows_per_s: float | None = None,
) -> float:
    """POST in batches of 1 000; with `rows_per_s`, paced open-loop at that rate."""
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        if rows_per_s:
            await asyncio.sleep(max(0.0, started + i / rows_per_s - time.perf_counter()))
        r = await http.post(
            f"{url}/sync/contracts/batch",
            json={"contracts": rows[i : i + BATCH], "overwrite": True},
            headers=bearer(token),
        )
        r.raise_for_status()
    return time.perf_counter() - started


async def run(n: int, report: Report, services: dict[str, ServiceProcess]) -> tuple[list[bytes], str, str]:
    conn = await admin()
    http = httpx.AsyncClient(timeout=120)
    try:
        token = await login(http, services["ingest"].url, *await create_client(conn))
        prefix = f"BE{uuid.uuid4().hex[:6]}-"
        rows = contract_rows(n, seed=1, prefix=prefix)
        services["transform"].stop()  # pre-publish everything first: G5 times consumption alone
        took = await http_import(http, services["ingest"].url, token, rows)
        await _wait(
            "SELECT count(*) FROM ingest.outbox WHERE key LIKE $1 AND sent_at IS NOT NULL", prefix + "%", n
        )
        published = time.perf_counter()
        services["transform"] = ServiceProcess("transform").start()
        await _wait("SELECT count(*) FROM transform.products WHERE contract_no LIKE $1", prefix + "%", n)
        end_to_end = n / (time.perf_counter() - published + took)
        first, last = await conn.fetchrow(
            "SELECT min(applied_at), max(applied_at) FROM transform.hetong_original"
            " WHERE contract_no LIKE $1",
            prefix + "%",
        )
        ours = n / max((last - first).total_seconds(), 1e-3)
        payloads = [
            bytes(r["payload"])
            for r in await conn.fetch(
                "SELECT payload FROM ingest.outbox WHERE key LIKE $1 ORDER BY created_at", prefix + "%"
            )
        ]
        report.figures["import"] = {
            "rows": n,
            "http_accept_rows_per_s": round(n / took),
            "end_to_end_rows_per_s": round(end_to_end),
            "transform_rows_per_s": round(ours),
        }
        topic = await raw_produce.fresh_topic()
        try:
            await raw_produce.produce(topic, [(b"k%d" % i, p) for i, p in enumerate(payloads)])
            raw = await raw_pipeline.run(topic, n)
        finally:
            await raw_produce.delete_topic(topic)
        report.ratios.append(
            Ratio(
                "G5", "end to end: transform consume→commit ÷ raw pipeline", ours, raw, "rows/s", 0.70, 0.50
            )
        )
        await _bulk_upload(http, services["ingest"].url, token, report)
        return payloads, prefix, token
    finally:
        await http.aclose()
        await conn.close()


async def _bulk_upload(http: httpx.AsyncClient, url: str, token: str, report: Report) -> None:
    rows = contract_rows(10_000, seed=2, prefix=f"BU{uuid.uuid4().hex[:6]}-")
    started = time.perf_counter()
    r = await http.post(
        f"{url}/sync/contracts/batch", json={"contracts": rows, "overwrite": True}, headers=bearer(token)
    )
    r.raise_for_status()
    ours = len(rows) / (time.perf_counter() - started)
    topic = await raw_produce.fresh_topic()
    try:
        raw = await raw_produce.produce(topic, [(b"k", orjson.dumps(row)) for row in rows])
    finally:
        await raw_produce.delete_topic(topic)
    report.ratios.append(
        Ratio(
            "G6b",
            "one 10 000-row POST (parse, validate, commit + outbox) ÷ raw produce",
            ours,
            raw,
            "rows/s",
            0.30,
            0.20,
        )
    )


async def materialise(payloads: list[bytes], report: Report, chunk: int = 500) -> None:
    """G4: our materialiser (mapping + reads + writes) ÷ the identical write statements with prebuilt rows."""
    changes = [decode_change(p)[1] for p in payloads]
    async with transform_schema() as (_, pool):
        config = await ConfigurationCache(uow_factory(pool), 3600).get()
        started = time.perf_counter()
        for i in range(0, len(changes), chunk):
            async with pool.acquire() as conn, conn.transaction():
                await apply_lines(uow_on(conn), changes[i : i + chunk], config)
        ours = len(changes) / (time.perf_counter() - started)
    std = [standardize(c.event.row, config.mapping, config.catalog) for c in changes]
    writes = [line_write(c, s, {}, [], config, restored=False) for c, s in zip(changes, std, strict=True)]
    async with transform_schema() as (_, pool):
        started = time.perf_counter()
        for i in range(0, len(writes), chunk):
            async with pool.acquire() as conn, conn.transaction():
                await save_lines(conn, writes[i : i + chunk])
        raw = len(writes) / (time.perf_counter() - started)
    report.ratios.append(
        Ratio(
            "G4",
            f"materialiser ÷ identical statements, {chunk} per transaction",
            ours,
            raw,
            "rows/s",
            0.85,
            0.60,
        )
    )
