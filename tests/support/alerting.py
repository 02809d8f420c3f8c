"""The real Alertmanager (Debian's prometheus-alertmanager) with the shipped config, the real alert-relay
(services/alert-relay) and the local sinks of devkit/alert-sinks (mailbox and robot stand-ins).

Timings are shortened through the rendered config (alert_sinks.local_config), never in code. Processes are
started here and stopped by their pid when the block ends.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from tests.support.stack import PYTHON, ROOT, TEST_PORTS

SHIPPED = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def shortened_rules(folder: Path, replacements: dict[str, str]) -> Path:
    """A copy of the shipped rules with some windows shortened (configuration, for tests that cannot wait hours)."""
    text = RULES.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    out = folder / "alerts.yml"
    out.write_text(text)
    return out


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert found, "Alertmanager missing: apt-get install prometheus-alertmanager (scripts/ops_tools.sh does)"
    return found


@dataclass
class Alerting:
    folder: Path
    url: str  # Alertmanager

    def mails(self) -> list[EmailMessage]:
        files = sorted((self.folder / "mail").glob("*.eml"))
        return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]

    def robot_messages(self, robot: str) -> list[dict[str, Any]]:
        return [json.loads(f.read_text()) for f in sorted((self.folder / robot).glob("*.json"))]

    def post(self, *alerts: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=10).raise_for_status()

    def alerts(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v2/alerts", timeout=10)
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()
        return result


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args!r} exited with {proc.returncode}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_prometheus(
    folder: Path, alertmanager_url: str, targets: dict[str, int], rules: Path = RULES
) -> Iterator[str]:
    """The real Prometheus with the shipped rules (or a shortened copy), scraping `targets` (job -> port) and
    evaluating every second."""
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        f"        labels: {{service: {job}}}\n"
        for job, port in targets.items()
    )
    config = folder / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{rules}']\n"
        f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['{alertmanager_url.split('//')[1]}']}}]}}]}}\n"
        f"scrape_configs:\n{jobs}"
    )
    port = TEST_PORTS["prometheus"]
    log = (folder / "prometheus.log").open("ab")
    proc = subprocess.Popen(
        [shutil.which("prometheus") or "/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={folder / 'prom-data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=log,
    )  # fmt: skip
    try:
        _wait_http(f"http://127.0.0.1:{port}/-/ready", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
        log.close()


def relay_env(sinks_port: int, relay_port: int, dingtalk_secret: str) -> dict[str, str]:
    """services/alert-relay pointed at the robot stand-ins (development: env=dev accepts their local URLs)."""
    here = f"http://127.0.0.1:{sinks_port}"
    return {
        "ALERT_RELAY_ENV": "dev",
        "ALERT_RELAY_PORT": str(relay_port),
        "ALERT_RELAY_WECOM_URL": f"{here}/cgi-bin/webhook/send?key=local-test",
        "ALERT_RELAY_DINGTALK_URL": f"{here}/robot/send?access_token=local-test",
        "ALERT_RELAY_DINGTALK_SECRET": dingtalk_secret,
    }


@contextlib.contextmanager
def running_alerting(folder: Path, group_wait: str = "1s", group_interval: str = "2s") -> Iterator[Alerting]:
    smtp, http, am = TEST_PORTS["smtp-sink"], TEST_PORTS["alert-sinks"], TEST_PORTS["alertmanager"]
    relay_port = TEST_PORTS["alert-relay"]
    config = folder / "alertmanager.yml"
    subprocess.run(
        [PYTHON, "-m", "alert_sinks.local_config", str(SHIPPED), str(config), f"--smtp-port={smtp}",
         f"--relay-port={relay_port}", f"--group-wait={group_wait}", f"--group-interval={group_interval}",
         "--repeat-interval=1h"],
        check=True,
    )  # fmt: skip
    binary = alertmanager_binary()  # before anything starts: a missing binary must not leak the sinks
    secret = "SEC" + secrets.token_hex(16)
    with (folder / "processes.log").open("ab") as log, contextlib.ExitStack() as started:

        def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
            proc = subprocess.Popen(args, stdout=log, stderr=log, env={**os.environ, **(env or {})})
            started.callback(_stop, proc)  # stopped in reverse order of start, whatever fails after
            return proc

        sinks = start(
            [PYTHON, "-m", "alert_sinks", f"--folder={folder}", f"--smtp-port={smtp}", f"--http-port={http}"],
            {"ALERT_SINKS_DINGTALK_SECRET": secret},
        )
        relay = start([PYTHON, "-m", "alert_relay"], relay_env(http, relay_port, secret))
        manager = start(
            [binary, f"--config.file={config}", f"--storage.path={folder / 'am-data'}",
             f"--web.listen-address=127.0.0.1:{am}", "--cluster.listen-address=",
             f"--web.external-url=http://127.0.0.1:{am}"],
        )  # fmt: skip
        _wait_http(f"http://127.0.0.1:{http}/docs", sinks)
        _wait_http(f"http://127.0.0.1:{relay_port}/readyz", relay)
        _wait_http(f"http://127.0.0.1:{am}/-/ready", manager)
        yield Alerting(folder, f"http://127.0.0.1:{am}")
