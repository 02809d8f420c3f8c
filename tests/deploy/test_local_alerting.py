"""`make up` alerting: the Prometheus that scripts/alerting.sh renders sends to the Alertmanager it starts and
scrapes every process scripts/stack.sh starts (issue 11), checked on the rendered file and on the real Prometheus."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.tooling import ROOT, yaml_docs
from tests.support.stack import TEST_PORTS

# The process -> port variable scripts/stack.sh and scripts/alerting.sh use for each process `make up` runs.
PORT_VARS = {
    "ingest": "ROLLSYNC_INGEST_PORT",
    "transform": "ROLLSYNC_TRANSFORM_PORT",
    "transform-progress": "ROLLSYNC_TRANSFORM_PROGRESS_PORT",
    "rules": "ROLLSYNC_RULES_PORT",
    "erp-connector": "ROLLSYNC_ERP_CONNECTOR_PORT",
    "alert-relay": "ROLLSYNC_ALERT_RELAY_PORT",
}


def _stack_processes() -> set[str]:
    """PROCESSES=(...) of scripts/stack.sh: the service processes `make up` starts."""
    found = re.search(r"^PROCESSES=\(([^)]*)\)", (ROOT / "scripts" / "stack.sh").read_text(), re.M)
    assert found
    return set(found.group(1).split())


def _render(tmp: Path, ports: dict[str, int]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLLSYNC_")}
    env.update({PORT_VARS[p]: str(port) for p, port in ports.items() if p in PORT_VARS})
    env.update(
        ROLLSYNC_ALERTMANAGER_PORT=str(ports["alertmanager"]),
        ROLLSYNC_SMTP_SINK_PORT=str(ports["smtp"]),
        ROLLSYNC_WEBHOOK_SINK_PORT=str(ports["sinks"]),
        ROLLSYNC_ALERTING_DIR=str(tmp),
    )
    subprocess.run([str(ROOT / "scripts" / "alerting.sh"), "render"], env=env, check=True, timeout=60)
    [config] = yaml_docs(tmp / "prometheus.yml")
    return config  # type: ignore[no-any-return]


def _targets(config: dict[str, Any]) -> set[str]:
    return {t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]}


def _alertmanagers(config: dict[str, Any]) -> list[str]:
    return [t for m in config["alerting"]["alertmanagers"] for s in m["static_configs"] for t in s["targets"]]


def test_every_process_make_up_starts_has_a_port_and_the_relay_too() -> None:
    assert set(PORT_VARS) == _stack_processes() | {"alert-relay"}


def test_the_rendered_config_scrapes_each_process_at_its_own_port_even_when_ports_swap(
    tmp_path: Path,
) -> None:
    # Ports equal to another process's shipped port (ingest on transform's 8102 and back): each moves once.
    ports = {"ingest": 8102, "transform": 8101, "transform-progress": 8103, "rules": 8105,
             "erp-connector": 8106, "alert-relay": 8104, "alertmanager": 9090, "smtp": 9093, "sinks": 9094}  # fmt: skip
    config = _render(tmp_path, ports)
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {
        "ingest": ["127.0.0.1:8102"],
        "transform": ["127.0.0.1:8101", "127.0.0.1:8103"],
        "rules": ["127.0.0.1:8105"],
        "erp-connector": ["127.0.0.1:8106"],
        "alert-relay": ["127.0.0.1:8104"],
    }
    assert _alertmanagers(config) == ["127.0.0.1:9090"]
    assert config["rule_files"] == [str(ROOT / "deploy" / "prometheus" / "alerts.yml")]


class _FakeAlertmanager(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/api/v2/alerts":
            type(self).received.extend(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_alertmanager() -> Iterator[list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_FakeAlertmanager,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", TEST_PORTS["alertmanager"]), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def test_the_real_prometheus_sends_its_alerts_to_the_alertmanager_make_up_starts_and_scrapes_every_process(
    tmp_path: Path, fake_alertmanager: list[dict[str, Any]]
) -> None:
    base = TEST_PORTS["alert-relay"] + 10  # nothing listens there: the targets are down, which is enough here
    ports = {p: base + i for i, p in enumerate(PORT_VARS)}
    ports |= {"alertmanager": TEST_PORTS["alertmanager"], "smtp": TEST_PORTS["smtp-sink"], "sinks": base + 9}
    config = _render(tmp_path, ports)
    # One more rule file with an alert that fires 10 s after start (an alert that fires before Prometheus has
    # discovered the Alertmanager, within its first 5 s, is dropped and only sent again a minute later);
    # everything else as rendered.
    (tmp_path / "probe.yml").write_text(
        "groups: [{name: probe, rules: [{alert: MakeUpProbe, expr: vector(1), for: 10s, labels: {team: platform}}]}]\n"
    )
    config["rule_files"].append(str(tmp_path / "probe.yml"))
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    prom_port = TEST_PORTS["prometheus"]
    log = (tmp_path / "prometheus.log").open("ab")
    proc = subprocess.Popen(
        [shutil.which("prometheus") or "/usr/bin/prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(a["labels"]["alertname"] == "MakeUpProbe" for a in fake_alertmanager):
            assert proc.poll() is None and time.monotonic() < deadline, (
                "no alert reached the Alertmanager port"
            )
            time.sleep(0.5)
        api = f"http://127.0.0.1:{prom_port}/api/v1"
        [active] = httpx.get(f"{api}/alertmanagers", timeout=10).json()["data"]["activeAlertmanagers"]
        assert active["url"] == f"http://127.0.0.1:{TEST_PORTS['alertmanager']}/api/v2/alerts"
        targets = httpx.get(f"{api}/targets", timeout=10).json()["data"]["activeTargets"]
        scraped = {(t["labels"]["job"], t["scrapeUrl"]) for t in targets}
        expected = {
            ("transform" if p == "transform-progress" else p, f"http://127.0.0.1:{ports[p]}/metrics")
            for p in PORT_VARS
        }
        assert scraped == expected
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
