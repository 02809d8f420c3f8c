"""Image hygiene of the images the compose run uses: non-root, no secrets, read-only root, size, build cache."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.containers.stack import DOCKER, container_id, docker, record
from tests.deploy.tooling import ROOT

TAG = os.environ.get("ROLLSYNC_TAG", "dev")
IMAGES = {
    "ingest": "services/ingest",
    "transform": "services/transform",
    "rules": "services/rules",
    "erp-connector": "services/erp-connector",
    "erp-simulator": "devkit/erp-simulator",
    "alert-relay": "services/alert-relay",
}
MAX_BYTES = 250 * 1000 * 1000
SECRETS_FILE = ROOT / ".local" / "containers" / "compose.env"


def _secret_values() -> list[str]:
    pairs = [line.split("=", 1) for line in SECRETS_FILE.read_text().splitlines() if "=" in line]
    return [v for k, v in pairs if not k.startswith("ROLLSYNC_") and len(v) >= 16]


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_runs_as_non_root_and_is_small(name: str) -> None:
    [info] = json.loads(docker("image", "inspect", f"rollsync/{name}:{TAG}"))
    assert info["Config"]["User"] not in ("", "0", "root", "0:0")
    record(f"size rollsync/{name}:{TAG} {info['Size'] / 1e6:.1f} MB")
    assert info["Size"] < MAX_BYTES


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_no_secret_in_history_or_files(name: str) -> None:
    image = f"rollsync/{name}:{TAG}"
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
    secrets = _secret_values()
    assert secrets
    assert not [s for s in secrets if s in history]
    # The build machine's CA bundle and any .env stay in the builder stage / out of the context.
    found = subprocess.run(
        [DOCKER, "run", "--rm", "--entrypoint", "sh", image, "-c",
         "ls /etc/ssl/build-ca.crt 2>/dev/null; find / -xdev -name '*.env' -o -xdev -name 'secrets.env' | head"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert found.strip() == ""
    for secret in secrets:
        grep = subprocess.run(
            [DOCKER, "run", "--rm", "--user", "0", "--entrypoint", "grep", image, "-rqsF", "-e", secret, "/app", "/etc"],
            capture_output=True, check=False,
        )  # fmt: skip
        assert grep.returncode == 1, f"a compose secret is inside {image}"


@pytest.mark.parametrize(
    "service", ["ingest", "transform", "rules", "erp-connector", "erp-simulator", "alert-relay"]
)
def test_python_containers_run_with_a_read_only_root(service: str) -> None:
    [info] = json.loads(docker("inspect", container_id(service)))
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    assert info["Config"]["User"] not in ("", "0", "root")


def test_second_build_reuses_the_cache() -> None:
    image = "rollsync/ingest:" + TAG
    before = docker("image", "inspect", "-f", "{{.Id}}", image).strip()
    started = time.monotonic()
    subprocess.run(
        [DOCKER, "buildx", "build", "--load", "-q", "-t", image, "-f", str(ROOT / IMAGES["ingest"] / "Dockerfile"),
         "--build-arg", "PYTHON_BASE=local/python:3.11-bookworm",
         "--build-arg", "PYTHON_BUILDER_BASE=local/python-builder:3.11-bookworm", str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    record(f"cached rebuild of {image}: {time.monotonic() - started:.1f} s")
    assert docker("image", "inspect", "-f", "{{.Id}}", image).strip() == before
    assert Path(ROOT / IMAGES["ingest"] / "Dockerfile").exists()
