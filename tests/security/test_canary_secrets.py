"""Issue 10: no secret in a log, the database, a Kafka message, a metric or an answer.

The stack is started exactly as `make up` starts it (scripts/stack.sh up: services, ERP simulator, nginx edge,
Prometheus and Alertmanager), with a distinctive random canary for every secret (the four database passwords,
the token secret, the ERP password and the development client's secret). Real traffic goes through the edge:
logins good and bad, a batch, a progress report, the pending-updates feed, a customer capture that reaches the
ERP simulator, malformed and hostile inputs, a token made of a secret, and a poison message that is dead-lettered.
Then every log file, a pg_dump of the database and every message of every Kafka topic (keys, values, headers;
.dlq twins included) are searched for the canaries.
"""

from __future__ import annotations

import random
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from common import topics
from common.replay import read_all
from common.settings import KafkaSettings
from tests.security.canary_stack import (
    EDGE_PORT,
    LOCAL,
    SIGNING_KEY,
    STACK_PORTS,
    SwappedSecrets,
    canaries,
    kafka_messages,
    log_files,
    pg_dump_lines,
    stack,
)
from tests.support.api import bearer, eventually
from tests.support.seed000 import SEED_BATCH, SEED_ROW
from tests.support.stack import KAFKA_BOOTSTRAP, PYTHON, ROOT, TEST_PORTS, ServiceProcess, admin_dsn
from tests.support.workload import customer_workload

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]  # the first test also starts the stack
# Starting the stack is a program run from the test, blocking is intended.
# ruff: noqa: ASYNC221

SERVICE_PORTS = (
    "ROLLSYNC_INGEST_PORT",
    "ROLLSYNC_TRANSFORM_PORT",
    "ROLLSYNC_TRANSFORM_PROGRESS_PORT",
    "ROLLSYNC_RULES_PORT",
    "ROLLSYNC_ERP_CONNECTOR_PORT",
)


@dataclass
class CanaryRun:
    canaries: dict[str, str]
    answers: list[str] = field(default_factory=list)  # status, headers and body of every answer
    metrics: list[str] = field(default_factory=list)  # every service's /metrics after the traffic


def _hits(text: str | bytes, run: CanaryRun) -> list[str]:
    if isinstance(text, bytes):
        return [var for var, value in run.canaries.items() if value.encode() in text]
    return [var for var, value in run.canaries.items() if value in text]


@pytest.fixture(scope="module")
async def canary_run(services: dict[str, ServiceProcess]) -> CanaryRun:
    """The stack with canary secrets, driven, then stopped; the session's own services are back afterwards."""
    for proc in services.values():
        proc.stop()
    run = CanaryRun(canaries())
    swapped = SwappedSecrets.install(run.canaries)
    conn = await asyncpg.connect(admin_dsn(), timeout=10)
    try:
        # The development client is made from DEV_CLIENT_SECRET only when missing: make it again from the canary.
        await conn.execute("DELETE FROM ingest.clients WHERE client_id = 'dev-local'")
        stack("stack.sh", "up")
        # the private key's base64 body: searched for like every other secret
        run.canaries["TOKEN_SIGNING_KEY"] = "".join(SIGNING_KEY.read_text().splitlines()[1:-1])
        demo = subprocess.run(
            [PYTHON, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        await _drive(run)
    finally:
        stack("stack.sh", "stop-services")
        stack("nginx.sh", "stop")
        stack("alerting.sh", "stop")
        swapped.restore()
        await conn.execute("DELETE FROM ingest.clients WHERE client_id = 'dev-local'")
        await conn.close()
        stack("stack.sh", "infra")  # the roles' passwords and the development client as they were
        for name, proc in list(services.items()):
            services[name] = ServiceProcess(name, proc.extra_env).start()
    return run


async def _drive(run: CanaryRun) -> None:
    c = run.canaries
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{EDGE_PORT}", timeout=60) as http:

        async def call(method: str, url: str, **kw: Any) -> httpx.Response:
            r = await http.request(method, url, **kw)
            run.answers.append(f"{method} {url} -> {r.status_code} {dict(r.headers)} {r.text}")
            return r

        def login_body(client_id: str, secret: str) -> dict[str, str]:
            return {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}

        # Failed logins: another secret as the password, the right secret with an unknown id, a cut-off body.
        assert (
            await call("POST", "/auth/system-login", json=login_body("dev-local", c["ERP_PASSWORD"]))
        ).status_code == 401
        assert (
            await call("POST", "/auth/system-login", json=login_body("nobody", c["DEV_CLIENT_SECRET"]))
        ).status_code == 401
        cut = f'{{"client_id":"dev-local","client_secret":"{c["DEV_CLIENT_SECRET"]}"'
        r = await call(
            "POST", "/auth/system-login", content=cut, headers={"Content-Type": "application/json"}
        )
        assert r.status_code in (400, 401, 422), r.text
        # A "token" that is the signing key's body itself.
        r = await call("GET", "/sync/pending-updates", headers=bearer(c["TOKEN_SIGNING_KEY"]))
        assert r.status_code == 401

        r = await call("POST", "/auth/system-login", json=login_body("dev-local", c["DEV_CLIENT_SECRET"]))
        assert r.status_code == 200, r.text
        auth = bearer(r.json()["access_token"])

        contract = f"HTCANARY{uuid.uuid4().hex[:8].upper()}"
        batch = {**SEED_BATCH, "contracts": [{**SEED_ROW, "合同编号": contract}]}
        assert (await call("POST", "/sync/contracts/batch", json=batch, headers=auth)).status_code == 200

        async def progress() -> bool:
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            body = {"热喷涂": "已完成", "updated_by": "canary", "update_time": now}
            r = await call("PUT", f"/sync/contracts/{contract}/progress", json=body, headers=auth)
            return r.status_code == 200

        await eventually(progress, timeout_s=120, every_s=0.5)

        async def in_feed() -> bool:
            params: dict[str, Any] = {"since": "2023-09-17T00:00:00Z", "limit": 500}
            while True:
                page = (await call("GET", "/sync/pending-updates", params=params, headers=auth)).json()
                if any(
                    e["合同编号"] == contract and e.get("updated_by") == "canary" for e in page["contracts"]
                ):
                    return True
                if not page["has_more"]:
                    return False
                params = {"since": page["next_cursor"], "limit": 500}

        await eventually(in_feed, timeout_s=120, every_s=1)

        # Hostile inputs: malformed JSON, NUL in a query parameter, a huge integer, no token at all.
        bad = await call("POST", "/sync/contracts/batch", content=b'{"contracts": [', headers=auth)
        assert bad.status_code == 400
        assert (await call("GET", "/contracts", params={"q": "a\0b"}, headers=auth)).status_code == 422
        assert (
            await call("GET", "/contracts", params={"offset": str(2**70)}, headers=auth)
        ).status_code == 422
        assert (await call("POST", "/sync/contracts/batch", json=batch)).status_code == 401

        [capture] = [
            x
            for x in customer_workload(1, random.Random(15), f"CN{uuid.uuid4().hex[:6].upper()}")
            if x.get("has_order")
        ]
        assert (await call("POST", "/customers/capture", json=capture, headers=auth)).status_code == 200
        simulator = f"http://127.0.0.1:{TEST_PORTS['erp-simulator']}/_sim/customers"

        async def in_erp() -> bool:
            # The connector pushes every 30 min; the admin trigger starts a push now (409-free while running).
            await call("POST", "/sync/erp/trigger", json={"direction": "push"}, headers=auth)
            customers = (await http.get(simulator)).json()["customers"]
            return any(x["name"] == capture["company_name"] for x in customers)

        await eventually(in_erp, timeout_s=240, every_s=3)

        await _dead_letter()
        for var in SERVICE_PORTS:
            r = await http.get(f"http://127.0.0.1:{STACK_PORTS[var]}/metrics")
            run.metrics.append(r.text)


async def _dead_letter() -> None:
    """A poison progress report: transform dead-letters it with the error in headers."""
    kafka = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP)
    event_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.INGEST_PROGRESS_REPORTED,
            b'{"payload": "not a progress report"',
            key=b"HT-CANARY",
            headers=[("event_id", event_id.encode())],
        )
    finally:
        await producer.stop()

    async def lettered() -> bool:
        dlq = await read_all(kafka, topics.dlq(topics.INGEST_PROGRESS_REPORTED))
        return any(d.headers.get("event_id") == event_id for d in dlq)

    await eventually(lettered, timeout_s=120, every_s=1)


def test_no_canary_in_any_log_file(canary_run: CanaryRun) -> None:
    files = log_files()
    hits = {str(p.relative_to(LOCAL)): h for p in files if (h := _hits(p.read_bytes(), canary_run))}
    print(f"canary search: {len(files)} log files, {sum(p.stat().st_size for p in files)} bytes")  # noqa: T201
    assert len(files) >= 8, files  # five service processes, the simulator, the edge, Kafka, PostgreSQL
    assert hits == {}


def test_log_files_are_readable_by_their_owner_only(canary_run: CanaryRun) -> None:
    files = [p for p in log_files() if p.is_relative_to(LOCAL / "logs")]
    shared = {
        str(p.relative_to(LOCAL)): oct(p.stat().st_mode & 0o777) for p in files if p.stat().st_mode & 0o077
    }
    assert shared == {}


def test_no_canary_in_the_database_dump(canary_run: CanaryRun) -> None:
    lines = pg_dump_lines()
    hits = [(n, h) for n, line in enumerate(lines) if (h := _hits(line, canary_run))]
    print(f"canary search: {len(lines)} pg_dump lines")  # noqa: T201
    assert len(lines) > 1000
    assert hits == []


async def test_no_canary_in_any_kafka_message(canary_run: CanaryRun) -> None:
    names, messages = await kafka_messages()
    hits = [(t, h) for t, blob in messages if (h := _hits(blob, canary_run))]
    print(f"canary search: {len(messages)} Kafka messages in {len(names)} topics")  # noqa: T201
    assert sum(t.endswith(".dlq") for t in names) >= 7
    assert any(t.endswith(".dlq") for t, _ in messages)  # the poison message, with its error headers
    assert hits == []


def test_no_canary_in_any_answer_or_metric(canary_run: CanaryRun) -> None:
    print(f"canary search: {len(canary_run.answers)} answers, {len(canary_run.metrics)} metrics pages")  # noqa: T201
    assert len(canary_run.metrics) == len(SERVICE_PORTS)
    assert [a for a in canary_run.answers if _hits(a, canary_run)] == []
    assert [m for m in canary_run.metrics if _hits(m, canary_run)] == []
