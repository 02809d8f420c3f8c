"""Test helpers: the local stack's settings and service processes (real ones, as `make up` runs them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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
    # alerting (tests/support/alerting.py): Prometheus, Alertmanager, services/alert-relay and the local sinks of
    # devkit/alert-sinks
    "prometheus": _BASE + 70,
    "alertmanager": _BASE + 71,
    "smtp-sink": _BASE + 72,
    "alert-sinks": _BASE + 73,
    "alert-relay": _BASE + 74,
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
    """The environment `scripts/stack.sh` gives a service, with the test port instead of the default.

    Secrets are `<NAME>_FILE` paths (.local/secrets/, mode 0600), never values: see `service_secret`.
    """
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
    if f"{prefix}TOKEN_JWKS_URL" in env:  # the tests' own ingest publishes the keys and revocations
        env[f"{prefix}TOKEN_JWKS_URL"] = f"http://127.0.0.1:{TEST_PORTS['ingest']}/.well-known/jwks.json"
        env[f"{prefix}TOKEN_JWKS_MAX_AGE_S"] = "5"  # a retired signing key drops out within seconds
    if service == "erp-connector":  # the test simulator, not a `make up` one
        env["ERP_CONNECTOR_ERP__BASE_URL"] = f"http://127.0.0.1:{TEST_PORTS['erp-simulator']}"
    return env


def service_secret(service: str, name: str) -> str:
    """A secret the stack gives `service`, read from its file: `service_secret("ingest", "POSTGRES__PASSWORD")`."""
    prefix = service.removesuffix("-progress").upper().replace("-", "_") + "_"
    return Path(service_env(service)[f"{prefix}{name}_FILE"]).read_text(encoding="utf-8")


def process_env(service: str, extra_env: dict[str, str]) -> dict[str, str]:
    """The environment of a test's service process: a value given in `extra_env` replaces the stack's file
    for it (`X` drops `X_FILE`; both set is refused at start-up)."""
    env = {**os.environ, **service_env(service)}
    for key in extra_env:
        env.pop(f"{key}_FILE", None)
    return {**env, **extra_env}


def private_log(name: str) -> BinaryIO:
    """`.local/logs/<name>`, opened for appending and readable by its owner only (issue 10)."""
    path = ROOT / ".local" / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


@dataclass
class ServiceProcess:
    service: str
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{TEST_PORTS[self.service]}"

    def start(self, timeout_s: float = 60) -> ServiceProcess:
        env = process_env(self.service, self.extra_env)
        log = private_log(f"test-{self.service}.log")
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
