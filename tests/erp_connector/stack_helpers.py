"""Helpers for erp-connector e2e tests: a connector process with test settings, Kafka, the simulator."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from common import topics
from tests.support.stack import ServiceProcess, service_env

FAST_ENV = {
    "ERP_CONNECTOR_ERP__CALL_TIMEOUT_S": "1.0",
    "ERP_CONNECTOR_ERP__READ_TIMEOUT_S": "1.0",
    "ERP_CONNECTOR_ERP__RATE_LIMIT_PER_SECOND": "60",
    "ERP_CONNECTOR_ERP__RATE_LIMIT_BURST": "5",
    "ERP_CONNECTOR_ERP__BREAKER_FAILURE_THRESHOLD": "8",
    "ERP_CONNECTOR_ERP__BREAKER_OPEN_SECONDS": "0.5",
    "ERP_CONNECTOR_PUSH__RETRY_BASE_S": "0.05",
    "ERP_CONNECTOR_PUSH__RETRY_CAP_S": "0.5",
    "ERP_CONNECTOR_PUSH__CONCURRENCY": "8",
    "ERP_CONNECTOR_PUSH__MAX_WAIT_IN_RUN_S": "15",
    "ERP_CONNECTOR_PUSH__RETRY_BUDGET_RATIO": "1.0",
    "ERP_CONNECTOR_PUSH__RETRY_BUDGET_MIN_PER_S": "20",
    "ERP_CONNECTOR_PUSH__CREATE_DEFAULTS": '{"sort1": "101"}',
    "ERP_CONNECTOR_PULL__PAGE_SIZE": "100",
    "ERP_CONNECTOR_PULL__PAGE_PAUSE_S": "0",
    "ERP_CONNECTOR_RUN_ON_START": "false",
}
QUIET_FAULTS = {
    "error_rate": 0.0,
    "html_error_rate": 0.0,
    "truncated_json_rate": 0.0,
    "reset_rate": 0.0,
    "timeout_rate": 0.0,
    "hang_seconds": 60.0,
    "rate_limit_per_second": None,
    "throttle_rate": 0.0,
    "silent_drop_rate": 0.0,
    "partial_save_rate": 0.0,
    "lost_reply_rate": 0.0,
    "expire_after_pages": None,
}


def kafka_servers() -> str:
    return service_env("erp-connector")["ERP_CONNECTOR_KAFKA__BOOTSTRAP_SERVERS"]


def start_connector(**env: str) -> ServiceProcess:
    return ServiceProcess("erp-connector", {**FAST_ENV, **env}).start()


def sync_command(
    customer_id: str, code: str, fields: dict[str, Any], version: int = 1
) -> tuple[bytes, dict[str, str]]:
    from tests.erp_connector.harness import sync_request

    return sync_request(customer_id, code, fields, version=version)


async def publish(commands: list[tuple[str, bytes, dict[str, str]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_servers(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value, headers in commands:
            await producer.send(
                topics.RULES_CUSTOMER_SYNC_REQUESTED,
                value,
                key=key.encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def completions(customer_ids: set[str], timeout_s: float = 30) -> dict[str, dict[str, Any]]:
    """CustomerPushCompleted payloads for the given customers, read from the topic as rules would."""
    consumer = AIOKafkaConsumer(
        topics.ERP_CUSTOMER_PUSH_COMPLETED,
        bootstrap_servers=kafka_servers(),
        group_id=f"test-erp-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and set(found) != customer_ids:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    payload = orjson.loads(r.value)["payload"]
                    if payload["customer_id"] in customer_ids:
                        found[payload["customer_id"]] = payload
    finally:
        await consumer.stop()
    return found


class Simulator:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def faults(self, **knobs: Any) -> None:
        r = await self.http.post(f"{self.url}/_sim/faults", json=knobs)
        assert r.status_code == 200, r.text

    async def quiet(self) -> None:
        await self.faults(**QUIET_FAULTS)

    async def state(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.http.get(f"{self.url}/_sim/state")).json()
        return body

    async def customers(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self.http.get(f"{self.url}/_sim/customers")).json()["customers"]
        return rows


async def metric(http: httpx.AsyncClient, url: str, name: str) -> float | None:
    text = (await http.get(f"{url}/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):  # name may carry labels: x{state="stopped_auth"}
            return float(line.rsplit(" ", 1)[1])
    return None


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)
