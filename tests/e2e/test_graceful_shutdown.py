"""R4 (DELIVERY.md §12): SIGTERM under load ×20 → 0 lost, each stop within 25 s of a 30 s grace period.

While an import and progress reports flow through the real stack, the consumer processes (transform lines,
transform progress, rules, erp-connector) get 20 SIGTERMs between them and are started again each time.
Every accepted line and report must then be applied exactly once, checked against a reference computed from
what was sent, and the redeliveries each stop caused stay within one batch per subscriber.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.generate import contract_rows
from tests.support.stack import ROOT, ServiceProcess

pytestmark = pytest.mark.e2e
log = logging.getLogger(__name__)
TARGETS = ("transform", "transform-progress", "rules", "erp-connector")
SIGTERMS, GRACE_S, STOP_LIMIT_S = 20, 30, 25
LINES_PER_ROUND, REPORTS_PER_ROUND = 40, 6
MAX_REDELIVERED_PER_STOP = 500  # at most the batch in flight: the largest max_records of a subscriber
PROCESS = "检验"  # every generated route ends with it, so a report on any contract is accepted
STATUSES = ("进行中", "待检", "已完成", "返工")
_DUPLICATES = re.compile(r"^rollsync_events_duplicate_total\{[^}]*\} (\S+)$", re.M)


@dataclass
class Stop:
    service: str
    seconds: float
    graceful: bool  # the lifespan shutdown ran to its end (uvicorn then re-raises SIGTERM: exit -15)
    redelivered: float


@dataclass
class Sent:
    """What ingest accepted (2xx): the reference the stack must end up with."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    contracts: list[str] = field(default_factory=list)
    reports: dict[str, tuple[int, str]] = field(default_factory=dict)  # contract → (count, last status)


def _redelivered(url: str) -> float:
    """Duplicates the inbox absorbed since this process started: redeliveries caused by the last stop."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(float(v) for v in _DUPLICATES.findall(text))


def _terminate_and_restart(services: dict[str, ServiceProcess], name: str) -> Stop:
    proc = services[name]
    assert proc.proc is not None
    redelivered = _redelivered(proc.url)
    log_file = ROOT / ".local" / "logs" / f"test-{name}.log"
    log_size = log_file.stat().st_size
    started = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    try:
        proc.proc.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()  # what the orchestrator does when the grace period ends
    seconds = time.monotonic() - started
    with log_file.open("rb") as f:
        f.seek(log_size)
        graceful = b"Application shutdown complete" in f.read()
    stop = Stop(name, seconds, graceful and proc.proc.returncode in (0, -signal.SIGTERM), redelivered)
    services[name] = ServiceProcess(name).start(timeout_s=120)
    return stop


def _sigterm_schedule(services: dict[str, ServiceProcess], name: str, rounds: int, seed: int) -> list[Stop]:
    rng, stops = random.Random(seed), []
    for _ in range(rounds):
        time.sleep(rng.uniform(0.5, 2.5))  # the fault schedule's pace, not a synchronisation
        stops.append(_terminate_and_restart(services, name))
    return stops


async def _load(http: httpx.AsyncClient, url: str, token: str, sent: Sent, done: asyncio.Event) -> None:
    run, rng, round_no, clock = uuid.uuid4().hex[:6], random.Random(4), 0, 0
    while not done.is_set():
        round_no += 1
        rows = contract_rows(LINES_PER_ROUND, seed=round_no, prefix=f"R4{run}-{round_no:04d}-")
        r = await http.post(
            f"{url}/sync/contracts/batch", json={"contracts": rows, "overwrite": True}, headers=bearer(token)
        )
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == len(rows)
        sent.lines += [(row["合同编号"], row["产品ID"]) for row in rows]
        sent.contracts += sorted({row["合同编号"] for row in rows} - set(sent.contracts))
        for contract in rng.sample(sent.contracts, min(REPORTS_PER_ROUND, len(sent.contracts))):
            clock += 1
            status = rng.choice(STATUSES)
            at = f"2024-06-01T{clock // 3600:02d}:{clock // 60 % 60:02d}:{clock % 60:02d}Z"  # always later
            report = {PROCESS: status, "updated_by": "r4", "update_time": at}
            r = await http.put(
                f"{url}/sync/contracts/{contract}/progress", json=report, headers=bearer(token)
            )
            assert r.status_code == 200, r.text
            count, _ = sent.reports.get(contract, (0, ""))
            sent.reports[contract] = (count + 1, status)
        await asyncio.sleep(1.0)  # a steady trickle: the point is load during the stops, not volume


async def _lines_applied(admin: asyncpg.Connection, sent: Sent) -> dict[str, int]:
    keys = ([c for c, _ in sent.lines], [p for _, p in sent.lines])
    join = "JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON t.contract_no = k.c AND t.product_id = k.p"
    out = {}
    for name, table in (
        ("original", "transform.hetong_original"),
        ("products", "transform.products"),
        ("rules", "rules.candidate_contracts"),
    ):
        out[name] = int(await admin.fetchval(f"SELECT count(*) FROM {table} t {join}", *keys))
    out["standardized"] = int(
        await admin.fetchval(
            "SELECT count(*) FROM transform.outbox WHERE topic = 'transform.contract-standardized.v1'"
            " AND key = any($1::text[])",
            [f"{c}/{p}" for c, p in sent.lines],
        )
    )
    out["not_version_1"] = int(
        await admin.fetchval(
            f"SELECT count(*) FROM transform.hetong_original t {join} WHERE version <> 1", *keys
        )
    )
    return out


async def _reports_applied(admin: asyncpg.Connection, sent: Sent) -> dict[str, tuple[int, str]]:
    rows = await admin.fetch(
        "SELECT contract_no, version, status FROM transform.progress_reports"
        " WHERE contract_no = any($1::text[]) AND product_id = '' AND process = $2",
        list(sent.reports),
        PROCESS,
    )
    return {r["contract_no"]: (r["version"], r["status"]) for r in rows}


async def test_sigterm_under_load_loses_nothing_and_stops_within_the_grace_period(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    token = await login(http, services["ingest"].url, *await create_client(admin))
    sent, done = Sent(), asyncio.Event()
    load = asyncio.create_task(_load(http, services["ingest"].url, token, sent, done))
    per_target = SIGTERMS // len(TARGETS)
    schedules = [
        asyncio.to_thread(_sigterm_schedule, services, name, per_target, seed)
        for seed, name in enumerate(TARGETS)
    ]
    try:
        stops = [s for schedule in await asyncio.gather(*schedules) for s in schedule]
    finally:
        done.set()
        await load
    faults_done = time.monotonic()

    expected = len(sent.lines)

    async def quiet() -> bool:
        lines = await _lines_applied(admin, sent)
        return (
            lines["products"] == expected
            and lines["rules"] == expected
            and (await _reports_applied(admin, sent) == sent.reports)
        )

    await eventually(quiet, timeout_s=180, every_s=1)
    quiescent = time.monotonic()
    lines = await _lines_applied(admin, sent)
    assert lines == {
        "original": expected,
        "products": expected,
        "rules": expected,
        "standardized": expected,  # a line applied twice would have emitted a second event
        "not_version_1": 0,
    }
    assert await _reports_applied(admin, sent) == sent.reports  # every report once, the last one wins

    assert len(stops) == SIGTERMS
    slow = [s for s in stops if s.seconds > STOP_LIMIT_S or not s.graceful]
    assert not slow, slow
    finals = [Stop(n, 0, True, _redelivered(services[n].url)) for n in TARGETS]
    assert all(s.redelivered <= MAX_REDELIVERED_PER_STOP for s in stops + finals), stops + finals
    slowest = max(stops, key=lambda s: s.seconds)
    log.info(  # figures for the report (pytest --log-cli-level=INFO)
        "R4: %d SIGTERMs, %d lines, %d reports; stop max %.1fs (%s) mean %.1fs; redelivered per stop %s,"
        " after the last %s; faults %.0fs, quiescent after %.0fs",
        len(stops),
        expected,
        sum(c for c, _ in sent.reports.values()),
        slowest.seconds,
        slowest.service,
        sum(s.seconds for s in stops) / len(stops),
        [(s.service, s.redelivered) for s in stops if s.redelivered],
        [(s.service, s.redelivered) for s in finals if s.redelivered],
        faults_done - started,
        quiescent - faults_done,
    )
