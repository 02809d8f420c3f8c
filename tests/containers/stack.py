"""The compose stack that scripts/test_containers.sh brought up: its command line, the edge URL, exec helpers."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCKER = shutil.which("docker") or "/usr/bin/docker"
FIGURES = Path(__file__).resolve().parents[2] / ".local" / "containers" / "figures.txt"
COMPOSE = shlex.split(os.environ.get("ROLLSYNC_CT_COMPOSE", ""))
# The compose edge serves HTTPS with the self-signed certificate scripts/test_containers.sh made (dev-cert).
EDGE = f"https://127.0.0.1:{os.environ.get('ROLLSYNC_EDGE_TLS_PORT', '8443')}"
EDGE_CA = str(Path(__file__).resolve().parents[2] / ".local" / "containers" / "tls" / "tls.crt")
SERVICES = ("ingest", "transform", "rules", "erp-connector")
READY_PORTS = {
    "ingest": 8101,
    "transform": 8102,
    "rules": 8103,
    "erp-connector": 8104,
}


def compose(*args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [*COMPOSE, *args], capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    if check:
        assert done.returncode == 0, f"{shlex.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def docker(*args: str) -> str:
    done = subprocess.run([DOCKER, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"docker {shlex.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


def fetch_inside(service: str, url: str) -> Any:
    """GET a URL from inside a container (ports other than the edge's are not published)."""
    code = f"import urllib.request,sys; sys.stdout.write(urllib.request.urlopen({url!r}, timeout=5).read().decode())"
    return json.loads(compose("exec", "-T", service, "python", "-c", code))


def psql(sql: str) -> str:
    return compose(
        "exec", "-T", "postgres", "psql", "-U", "rollsync_admin", "-d", "rollsync", "-Atc", sql
    ).strip()


def container_id(service: str) -> str:
    return compose("ps", "-q", service).strip()


def states() -> dict[str, dict[str, Any]]:
    lines = compose("ps", "-a", "--format", "json").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return {row["Service"]: row for row in rows}


def wait_for(probe: Callable[[], Any], timeout_s: float = 300, every_s: float = 2) -> Any:
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (AssertionError, OSError, ValueError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s}s; last value: {last!r}")


def record(figure: str) -> None:
    """A measured figure for the run's summary (scripts/test_containers.sh prints the file at the end)."""
    with FIGURES.open("a") as out:
        out.write(figure + "\n")


def readyz(service: str) -> Any:
    """The service's /readyz from inside its container; raises (so wait_for retries) while it answers 503."""
    return fetch_inside(service, f"http://127.0.0.1:{READY_PORTS[service]}/readyz")
