"""R1 (DELIVERY.md §12): contracts, customers and progress under SIGKILLed consumers, a PostgreSQL immediate stop
and a broker SIGKILL: 0 lost, 0 duplicate effects, tables equal the reference fold, quiet within 60 s."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.careful_client import CarefulClient
from tests.support.faults import SCENARIO_TIMEOUT_S, SOAK, FaultInjector, figures, size
from tests.support.stack import ServiceProcess, admin_dsn
from tests.support.workload import (
    Key,
    Reference,
    capture_groups,
    customer_workload,
    line_batches,
    line_workload,
    progress_workload,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SCENARIO_TIMEOUT_S)]
EVENTS = size(10_000, 100_000, "ROLLSYNC_R1_EVENTS")
BATCH = 200
CONSUMERS = ("transform", "transform-progress", "rules", "erp-connector")
QUIET_S = 60
MIN_KILLS = 20 if SOAK else 3


async def test_r1_nothing_lost_nothing_duplicated_under_crashes(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient, fault_seed: int
) -> None:
    faults = FaultInjector(fault_seed, services)
    prefix = f"R1{uuid.uuid4().hex[:6]}-"
    work = random.Random(f"{fault_seed}-workload")  # apart from the fault schedule's, which runs concurrently
    lines = line_workload(EVENTS * 85 // 100, work, prefix)
    customers = customer_workload(EVENTS * 14 // 100, work, prefix)
    n_progress = EVENTS - len(lines) - len(customers)
    token = await login(http, services["ingest"].url, *await create_client(admin))
    client = CarefulClient(http, bearer(token))
    ref = Reference()
    started = time.monotonic()

    load = asyncio.create_task(_load(client, services["ingest"].url, ref, lines, customers, n_progress, work))
    await _inject(faults, load)
    await load
    load_done = time.monotonic()
    await faults.restart_dead_services()
    db = await asyncpg.connect(admin_dsn())  # the PostgreSQL crash closed every connection opened before it
    try:
        await _judge(db, prefix, ref, faults, client, (lines, customers, n_progress), (started, load_done))
    finally:
        await db.close()


async def _judge(
    db: asyncpg.Connection,
    prefix: str,
    ref: Reference,
    faults: FaultInjector,
    client: CarefulClient,
    sent: tuple[list[dict[str, Any]], list[dict[str, Any]], int],
    times: tuple[float, float],
) -> None:
    """Converged to the reference within QUIET_S of the last fault, with no duplicate effect."""
    (lines, customers, n_progress), (started, load_done) = sent, times

    async def converged() -> list[str] | None:
        problems = await _differences(db, prefix, ref)
        return None if problems else ["converged"]

    try:
        await eventually(
            converged, timeout_s=QUIET_S + max(0.0, faults.last_fault_at - time.monotonic()), every_s=2
        )
    except AssertionError:
        problems = await _differences(db, prefix, ref)
        pytest.fail(
            f"{faults.summary()}\n{len(problems)} differences from the reference fold:\n"
            + "\n".join(problems[:40])
        )
    quiet_at = time.monotonic()
    duplicates = await _duplicate_effects(db, prefix, ref)
    figures(
        "R1",
        {
            "seed": faults.seed,
            "events accepted": len(ref.line_versions) + len(ref.customers) + len(ref.progress),
            "line uploads / captures / reports": f"{len(lines)} / {len(customers)} / {n_progress}",
            "faults": dict(faults.counts),
            "http outcomes": dict(client.outcomes),
            "lost": 0,
            "duplicated": len(duplicates),
            "load s": round(load_done - started, 1),
            "quiescence after last fault s": round(quiet_at - max(faults.last_fault_at, load_done), 1),
        },
    )
    assert not duplicates, f"{faults.summary()}\nduplicate effects:\n" + "\n".join(duplicates[:40])
    assert faults.counts["sigkill"] >= MIN_KILLS and faults.counts["postgres_immediate_stop"] == 1
    assert faults.counts["broker_sigkill"] == 1
    # An outage is not an internal error: clients must be told to come back (503 + Retry-After), never a 500.
    assert not client.outcomes["retried_500"], (
        f"{faults.summary()}\ningest answered 500 {client.outcomes['retried_500']} times during the faults"
        " (expected 503 with Retry-After); see .local/logs/test-ingest.log 'unhandled error'"
    )


async def _load(
    client: CarefulClient,
    url: str,
    ref: Reference,
    lines: list[dict[str, Any]],
    customers: list[dict[str, Any]],
    n_progress: int,
    rng: random.Random,
) -> None:
    batches = line_batches(lines, BATCH)
    per_batch_c, per_batch_p = -(-len(customers) // len(batches)), -(-n_progress // len(batches))
    sent_progress = 0
    for n, batch in enumerate(batches):
        body = {"contracts": batch, "overwrite": True, "source": "local_system"}
        r = await client.send("POST", f"{url}/sync/contracts/batch", body)
        assert r.status_code == 200, r.text
        ref.accept_lines(batch, r.json())
        chunk = customers[n * per_batch_c : (n + 1) * per_batch_c]
        for group in capture_groups(chunk, 4):
            await asyncio.gather(*(_capture(client, url, ref, c) for c in group))
        todo = min(per_batch_p, n_progress - sent_progress)
        accepted_rows = list(ref.lines.values())
        for report in progress_workload(todo, rng, accepted_rows, sent_progress):
            await _report(client, url, ref, report)
        sent_progress += todo


async def _capture(client: CarefulClient, url: str, ref: Reference, body: dict[str, Any]) -> None:
    # No Idempotency-Key: a capture is content-hashed, so a retry of an applied one answers `unchanged`.
    r = await client.send("POST", f"{url}/customers/capture", body, idempotent_key=False)
    assert r.status_code == 200, r.text
    ref.accept_capture(body, r.json())


async def _report(client: CarefulClient, url: str, ref: Reference, report: dict[str, Any]) -> None:
    body = {k: v for k, v in report.items() if k != "合同编号"}
    r = await client.send(
        "PUT", f"{url}/sync/contracts/{report['合同编号']}/progress", body, idempotent_key=False
    )
    assert r.status_code in (200, 409), r.text  # 409 stale_update: a retried unknown that had applied
    process = next(k for k in body if k not in ("产品ID", "updated_by", "update_time"))
    ref.progress[(report["合同编号"], report["产品ID"], process)] = body[process]


async def _inject(faults: FaultInjector, load: asyncio.Task[None]) -> None:
    """SIGKILL a random consumer every 7±3 s; PostgreSQL after the 3rd kill, the broker after the 6th."""
    n = 0
    while not load.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(load), timeout=faults.rng.uniform(4, 10))
        if load.done():
            break
        n += 1
        await faults.kill_random(CONSUMERS)
        if n == 3:
            await faults.crash_postgres()
        if n == 6:
            await faults.crash_broker(down_s=5)
            await faults.restart_dead_services()
    # Small machines finish the load early: the required faults still happen, after it.
    while faults.counts["sigkill"] < MIN_KILLS:
        await asyncio.sleep(faults.rng.uniform(4, 10))
        await faults.kill_random(CONSUMERS)
    if not faults.counts["postgres_immediate_stop"]:
        await faults.crash_postgres()
    if not faults.counts["broker_sigkill"]:
        await faults.crash_broker(down_s=5)
        await faults.restart_dead_services()


async def _differences(admin: asyncpg.Connection, prefix: str, ref: Reference) -> list[str]:
    """Every way the tables differ from the reference fold, by key (empty when equal)."""
    out: list[str] = []
    stored = {
        (r["contract_no"], r["product_id"]): r
        for r in await admin.fetch(
            "SELECT contract_no, product_id, version, row::text AS row FROM transform.hetong_original"
            " WHERE contract_no LIKE $1",
            prefix + "%",
        )
    }
    for key, row in ref.lines.items():
        got = stored.get(key)
        if got is None:
            out.append(
                f"line {key}: lost (no hetong_original row; expected version {ref.line_versions[key]})"
            )
        elif got["version"] != ref.line_versions[key]:
            out.append(f"line {key}: version {got['version']}, expected {ref.line_versions[key]}")
        elif orjson.loads(got["row"]) != row:
            out.append(f"line {key}: row differs from the last accepted upload")
    out += [f"line {k}: in hetong_original but never accepted" for k in stored.keys() - ref.lines.keys()]
    products = await admin.fetchval(
        "SELECT count(*) FROM transform.products WHERE contract_no LIKE $1", prefix + "%"
    )
    if products != len(ref.lines):
        out.append(f"transform.products has {products} lines, expected {len(ref.lines)}")
    out += await _customer_differences(admin, ref)
    out += await _progress_differences(admin, prefix, ref)
    return out


CUSTOMER_FIELDS = ("company_name", "real_name", "phone", "email", "address", "wechat_nickname")


async def _customer_differences(admin: asyncpg.Connection, ref: Reference) -> list[str]:
    rows = {
        r["wechat_id"]: r
        for r in await admin.fetch(
            f"SELECT wechat_id, capture_version, {', '.join(CUSTOMER_FIELDS)} FROM rules.customers_unified"
            " WHERE wechat_id = any($1::text[])",
            list(ref.customers),
        )
    }
    out = []
    for wid, body in ref.customers.items():
        got = rows.get(wid)
        if got is None:
            out.append(f"customer {wid}: lost (no customers_unified row)")
            continue
        if got["capture_version"] != ref.capture_versions[wid]:
            out.append(
                f"customer {wid}: capture_version {got['capture_version']}, expected {ref.capture_versions[wid]}"
            )
        wrong = {f: (got[f], body[f]) for f in CUSTOMER_FIELDS if got[f] != body[f]}
        if wrong:
            out.append(f"customer {wid}: (stored, accepted) differ: {wrong}")
    return out


async def _progress_differences(admin: asyncpg.Connection, prefix: str, ref: Reference) -> list[str]:
    rows = {
        (r["contract_no"], r["product_id"], r["process"]): r["status"]
        for r in await admin.fetch(
            "SELECT contract_no, product_id, process, status FROM transform.progress_reports WHERE contract_no LIKE $1",
            prefix + "%",
        )
    }
    return [
        f"progress {key}: status {rows.get(key)!r}, last accepted {status!r}"
        for key, status in ref.progress.items()
        if rows.get(key) != status
    ]


async def _duplicate_effects(admin: asyncpg.Connection, prefix: str, ref: Reference) -> list[str]:
    """One ContractStandardized per accepted line version; one ERP create per customer with an order."""
    counts: dict[Key, int] = {
        tuple(r["key"].split("/", 1)): r["n"]
        for r in await admin.fetch(
            "SELECT key, count(*) AS n FROM transform.outbox WHERE topic = 'transform.contract-standardized.v1'"
            " AND key LIKE $1 GROUP BY key",
            prefix + "%",
        )
    }
    out = [
        f"line {key}: {counts.get(key, 0)} ContractStandardized events for {v} accepted versions"
        for key, v in ref.line_versions.items()
        if counts.get(key, 0) > v
    ]
    creates = await admin.fetch(
        "SELECT u.wechat_id, count(DISTINCT r.erp_id) AS n FROM rules.sync_requests r"
        " JOIN rules.customers_unified u ON u.id = r.customer_id"
        " WHERE u.wechat_id = any($1::text[]) AND r.erp_id IS NOT NULL GROUP BY u.wechat_id HAVING count(DISTINCT r.erp_id) > 1",
        list(ref.customers),
    )
    out += [f"customer {r['wechat_id']}: {r['n']} distinct ERP records" for r in creates]
    return out
