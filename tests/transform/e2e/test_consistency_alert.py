"""Issue 11: a line dead-lettered between ingest and transform is found by transform's scheduled consistency
check, and the real Prometheus fires RollsyncConsistencyFindings, which Alertmanager mails.

Timings come from configuration: TRANSFORM_CONSISTENCY_CHECK_S=2 (tests/support/stack.py), Prometheus scraping
and evaluating every second, Alertmanager's group wait 1 s (tests/support/alerting.py)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from common import topics
from tests.support.alerting import running_alerting, running_prometheus
from tests.support.stack import KAFKA_BOOTSTRAP, TEST_PORTS, ServiceProcess

pytestmark = pytest.mark.e2e
BRANCH = 'rollsync_consistency_findings{branch="lines_dead_lettered"}'


def _findings() -> float:
    text = httpx.get(f"http://127.0.0.1:{TEST_PORTS['transform']}/metrics", timeout=10).text
    found = re.search(r"^rollsync_consistency_findings\{branch=\"lines_dead_lettered\"\} (\S+)$", text, re.M)
    return float(found.group(1)) if found else -1.0


def _poll(probe: Callable[[], Any], what: str, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s}s: {what}")


async def _poison_line() -> None:
    """An event transform cannot read (no valid envelope): its lines consumer dead-letters it."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        headers = [("event_id", str(uuid.uuid4()).encode())]
        await producer.send_and_wait(
            topics.INGEST_HETONG_ROW_CHANGED, b'{"not": "an envelope"}', key=b"X/P1", headers=headers
        )
    finally:
        await producer.stop()


async def test_a_dead_lettered_line_fires_the_consistency_alert_in_prometheus_and_is_mailed(
    services: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    before = _poll(lambda: (v := _findings()) >= 0 and (v,), "the first scheduled check")[0]
    await _poison_line()
    after = _poll(lambda: (v := _findings()) > before and (v,), "the dead-lettered line in the gauge")[0]
    assert after == before + 1, BRANCH
    with (
        running_alerting(tmp_path) as alerting,
        running_prometheus(tmp_path, alerting.url, {"transform": TEST_PORTS["transform"]}) as prometheus,
    ):

        def firing() -> list[dict[str, Any]]:
            alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
            return [
                a for a in alerts
                if a["labels"]["alertname"] == "RollsyncConsistencyFindings" and a["state"] == "firing"
            ]  # fmt: skip

        [alert] = _poll(firing, "RollsyncConsistencyFindings firing in Prometheus")
        assert alert["labels"]["branch"] == "lines_dead_lettered"
        subject = "[rollsync 告警] RollsyncConsistencyFindings"
        [mail] = _poll(
            lambda: [m for m in alerting.mails() if str(m["Subject"]).startswith(subject)], "the email"
        )
        assert "lines_dead_lettered" in mail.get_body(("plain",)).get_content()
        assert "docs/runbook.md#consistency-findings" in mail.get_body(("plain",)).get_content()
