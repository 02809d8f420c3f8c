"""Issue 11 end to end: the ERP simulator refuses pushes, more than 10 fail, the real Prometheus fires
RollsyncErpSyncFailures and the real Alertmanager mails the ERP admins; once the fault clears, the resolved mail.
Then the ERP goes fully down while failures keep piling up, so that both RollsyncErpUnreachable and the
RollsyncErpSyncFailures it causes fire in Prometheus: only RollsyncErpUnreachable is sent (mail and both group
robots, through the real alert-relay), the other is inhibited; when the ERP is back, the resolved messages.

Windows are shortened in a copy of the rules (configuration), keeping their order: the 1 h failure window to
30 s and its 5 min `for` to 10 s (so the resolved message comes within the test), the breaker's 2 min to 5 s."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.erp_connector.harness import company
from tests.erp_connector.stack_helpers import Simulator, publish, start_connector, sync_command
from tests.support.alerting import running_alerting, running_prometheus, shortened_rules
from tests.support.api import bearer, create_client, login
from tests.support.stack import TEST_PORTS, ServiceProcess

pytestmark = pytest.mark.e2e
ERP_ADMIN = "erp-admin@example.com"


@pytest.fixture(scope="module")
def connector(services: dict[str, ServiceProcess]) -> Iterator[ServiceProcess]:
    services["erp-connector"].stop()
    # A pull gives up at once when the ERP is down (one page attempt, 1 s of open breaker), so each triggered
    # pull during the outage is one sync failure; the breaker opens after 8 failed calls (FAST_ENV) and probes
    # every 2 s, staying "not closed" while the ERP is away.
    proc = start_connector(
        ERP_CONNECTOR_ERP__BREAKER_OPEN_SECONDS="2",
        ERP_CONNECTOR_PULL__MAX_PAGE_ATTEMPTS="1",
        ERP_CONNECTOR_PULL__MAX_OUTAGE_S="1",
    )
    try:
        yield proc
    finally:
        proc.stop()
        _poll(lambda: not _listening(TEST_PORTS["erp-connector"]), "the connector's port to be free", 60)
        services["erp-connector"].start()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _poll(probe: Callable[[], Any], what: str, timeout_s: float = 120) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout_s}s: {what}")


async def test_failed_pushes_are_mailed_then_resolved_and_an_erp_outage_sends_only_unreachable(
    services: dict[str, ServiceProcess], connector: ServiceProcess, admin: Any, tmp_path: Path
) -> None:
    rules = shortened_rules(
        tmp_path,
        {"increase(rollsync_erp_sync_failures_total[1h])) > 10\n        for: 5m":
            "increase(rollsync_erp_sync_failures_total[30s])) > 10\n        for: 10s",
         "max by (service) (rollsync_erp_circuit_state) > 0\n        for: 2m": "max by (service) (rollsync_erp_circuit_state) > 0\n        for: 5s"},
    )  # fmt: skip
    async with httpx.AsyncClient(timeout=30) as http:
        sim = Simulator(http, services["erp-simulator"].url)
        client_id, secret = await create_client(admin, ["admin"])
        auth = bearer(await login(http, services["ingest"].url, client_id, secret))
        with (
            running_alerting(tmp_path) as alerting,
            running_prometheus(
                tmp_path, alerting.url, {"erp-connector": TEST_PORTS["erp-connector"]}, rules
            ) as prometheus,
        ):

            def erp_mails(prefix: str) -> list[EmailMessage]:
                return [
                    m
                    for m in alerting.mails()
                    if m["To"] == ERP_ADMIN and str(m["Subject"]).startswith(prefix)
                ]

            def scraped() -> bool:  # the counter must be seen at its old value before it moves
                query = httpx.get(
                    f"{prometheus}/api/v1/query", params={"query": 'up{job="erp-connector"}'}, timeout=10
                )
                return any(r["value"][1] == "1" for r in query.json()["data"]["result"])

            _poll(scraped, "a first scrape of erp-connector")
            await sim.faults(permission={"rollsync": "none"})
            run = uuid.uuid4().hex[:6].upper()
            await publish(
                [
                    (f"al-{run}-{i}", *sync_command(f"al-{run}-{i}", f"KH-A{run}{i:03d}", company(i)))
                    for i in range(12)
                ]
            )
            trigger = f"{connector.url}/sync/erp/trigger"
            _poll(lambda: erp_mails("[rollsync 告警] RollsyncErpSyncFailures") or
                  (httpx.post(trigger, json={"direction": "push"}, headers=auth, timeout=30) and False),
                  "the ERP sync failures email")  # fmt: skip
            [mail] = erp_mails("[rollsync 告警] RollsyncErpSyncFailures")
            plain = mail.get_body(("plain",))
            assert plain is not None
            body = plain.get_content()
            assert (
                "docs/runbook.md#erp-sync-failing" in body
                and "English: RollsyncErpSyncFailures is firing" in body
                and "服务 service: erp-connector" in body
            )
            (tmp_path / "erp-sync-failures.eml").write_bytes(mail.as_bytes())

            await sim.quiet()
            _poll(lambda: erp_mails("[rollsync 已恢复] RollsyncErpSyncFailures"), "the resolved email")

            def prometheus_firing(name: str) -> bool:
                alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
                return any(a["labels"]["alertname"] == name and a["state"] == "firing" for a in alerts)

            def pull_fails() -> bool:  # each failed pull counts, and opens the breaker after 8 in a row
                httpx.post(trigger, json={"direction": "pull"}, headers=auth, timeout=30)
                return False  # keep polling

            services["erp-simulator"].stop()  # the ERP fully down
            try:
                # Failures keep coming until the caused alert fires too: inhibition is then what keeps it quiet.
                _poll(
                    lambda: prometheus_firing("RollsyncErpUnreachable") or pull_fails(), "the source firing"
                )
                _poll(lambda: prometheus_firing("RollsyncErpSyncFailures") or pull_fails(),
                      "the caused alert firing during the outage")  # fmt: skip
                _poll(
                    lambda: erp_mails("[rollsync 告警] RollsyncErpUnreachable"), "the ERP unreachable email"
                )

                def inhibited() -> list[str]:
                    alerts = httpx.get(f"{alerting.url}/api/v2/alerts", timeout=10).json()
                    found = [a for a in alerts if a["labels"]["alertname"] == "RollsyncErpSyncFailures"]
                    return [i for a in found for i in a["status"]["inhibitedBy"]]

                _poll(inhibited, "RollsyncErpSyncFailures inhibited in Alertmanager")
                # several group_interval (2 s) flushes with both alerts at Alertmanager
                await asyncio.sleep(6)
                assert prometheus_firing("RollsyncErpSyncFailures")
                subjects = [str(m["Subject"]) for m in alerting.mails()]
                assert [s for s in subjects if "告警" in s] == [
                    "[rollsync 告警] RollsyncErpSyncFailures · erp-connector · 1 条 / FIRING",
                    "[rollsync 告警] RollsyncErpUnreachable · erp-connector · 1 条 / FIRING",
                ], subjects
                for robot in ("wecom", "dingtalk"):  # erp-page: both robots, through alert-relay
                    messages = [json.dumps(m, ensure_ascii=False) for m in alerting.robot_messages(robot)]
                    assert messages and all("RollsyncErpUnreachable" in m for m in messages), robot
                    assert not any("RollsyncErpSyncFailures" in m for m in messages), robot
            finally:
                services["erp-simulator"].start()

            # The ERP is back: the breaker closes at the next call, and the same people hear it is resolved.
            def pull_runs() -> bool:
                httpx.post(trigger, json={"direction": "pull"}, headers=auth, timeout=30)
                return False

            _poll(
                lambda: erp_mails("[rollsync 已恢复] RollsyncErpUnreachable") or pull_runs(),
                "the resolved email",
            )
            for robot in ("wecom", "dingtalk"):
                _poll(
                    lambda r=robot: [  # type: ignore[misc]
                        m for m in alerting.robot_messages(r)
                        if "rollsync 已恢复 resolved: RollsyncErpUnreachable" in json.dumps(m, ensure_ascii=False)
                    ],
                    f"the resolved {robot} message",
                )  # fmt: skip
