"""Test helpers: the local stack's settings and service processes (real ones, as `make up` runs them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG_PORT = int(os.environ.get("ROLLSYNC_PG_PORT", "55432"))
KAFKA_BOOTSTRAP = f"127.0.0.1:{os.environ.get('ROLLSYNC_KAFKA_PORT', '19092')}"
_BASE = int(
    os.environ.get("ROLLSYNC_TEST_PORT_BASE", "18100")
)  # tests' own service ports, apart from `make up`'s
TEST_PORTS = {
    "ingest": _BASE + 1,
    "transform": _BASE + 2,
    "rules": _BASE + 3,
    "erp-connector": _BASE + 4,
    "transform-progress": _BASE + 5,
    "erp-simulator": _BASE + 90,
    # alerting (tests/support/alerting.py): Prometheus, Alertmanager and the local sinks of devkit/alert-sinks
    "prometheus": _BASE + 70,
    "alertmanager": _BASE + 71,
    "smtp-sink": _BASE + 72,
    "alert-sinks": _BASE + 73,
}
READY_PATHS = {"erp-simulator": "/_sim/state"}
# The per-client limit of the shared request path (common.rate_limit): tests and benchmarks poll far faster than
# any real client, so the test stack's default is generous (as tests.support.api.create_client's rows are),
# while RATE_PROBE_CLIENT keeps the production default (tests/e2e/test_rate_limits.py).
RATE_PROBE_CLIENT = "rate-limit-probe"
RATE_PROBE_LIMIT = {"per_minute": 120, "per_day": 50_000}  # RateLimitSettings' defaults (test_rate_limits)


def admin_dsn(database: str = "rollsync") -> str:
    return f"postgresql://rollsync_admin@127.0.0.1:{PG_PORT}/{database}"


def service_env(service: str) -> dict[str, str]:
    """The environment `scripts/stack.sh` gives a service, with the test port instead of the default."""
    out = subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), "env"], check=True, capture_output=True, text=True
    )
    prefix = service.removesuffix("-progress").upper().replace("-", "_") + "_"
    env = dict(line.split("=", 1) for line in out.stdout.splitlines() if line.startswith(prefix))
    env[f"{prefix}PORT"] = str(TEST_PORTS[service])
    if prefix in ("TRANSFORM_", "RULES_", "ERP_CONNECTOR_"):  # ingest: each client's limits are in its row
        env[f"{prefix}RATE_LIMIT__PER_MINUTE"] = "1000000"
        env[f"{prefix}RATE_LIMIT__PER_DAY"] = "100000000"
        env[f"{prefix}RATE_LIMIT__CLIENTS"] = json.dumps({RATE_PROBE_CLIENT: RATE_PROBE_LIMIT})
    if service == "transform-progress":  # transform's progress consumer, in a process of its own
        env["TRANSFORM_ROLE"] = "progress"
    if service == "transform":  # tests edit configuration tables and should not wait 30 s for a reload
        env["TRANSFORM_CONFIG_RELOAD_S"] = "1"
        env["TRANSFORM_CONSISTENCY_CHECK_S"] = "2"  # the scheduled check, every 2 s instead of hourly
    if service == "erp-connector":  # the test simulator, not a `make up` one
        env["ERP_CONNECTOR_ERP__BASE_URL"] = f"http://127.0.0.1:{TEST_PORTS['erp-simulator']}"
    return env


@dataclass
class ServiceProcess:
    service: str
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{TEST_PORTS[self.service]}"

    def start(self, timeout_s: float = 60) -> ServiceProcess:
        env = {**os.environ, **service_env(self.service), **self.extra_env}
        log = (ROOT / ".local" / "logs" / f"test-{self.service}.log").open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", self.service.removesuffix("-progress").replace("-", "_")],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.service} exited with {self.proc.returncode}; see .local/logs/test-*.log"
                )
            try:
                path = READY_PATHS.get(self.service, "/readyz")
                if httpx.get(f"{self.url}{path}", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.service} not ready after {timeout_s}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, no offset is committed on the way out."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
