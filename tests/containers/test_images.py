"""Image hygiene of the images the compose run uses: non-root, no secrets, read-only root, size, build cache."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.containers.stack import COMPOSE, DOCKER, container_id, docker, record
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
LOCAL_CT = ROOT / ".local" / "containers"
SECRETS_DIR = LOCAL_CT / "secrets"  # scripts/stack.sh compose-secrets: one file per compose secret
BUILD_ARGS = [
    "--build-arg", "PYTHON_BASE=local/python:3.11-bookworm",
    "--build-arg", "PYTHON_BUILDER_BASE=local/python-builder:3.11-bookworm",
]  # fmt: skip


def _secret_values() -> list[str]:
    """The compose secrets this run mounts, read from their files; of the signing key (a PEM) its key lines."""
    values: list[str] = []
    for path in sorted(SECRETS_DIR.iterdir()):
        lines = [line.strip() for line in path.read_text().splitlines()]
        values += [line for line in lines if len(line) >= 16 and not line.startswith("-----")]
    return values


def _numeric_uid(user: str) -> int | None:
    head = user.split(":", 1)[0]
    return int(head) if head.isdigit() else None


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_runs_as_non_root_and_is_small(name: str) -> None:
    [info] = json.loads(docker("image", "inspect", f"rollsync/{name}:{TAG}"))
    user = info["Config"]["User"]
    assert user not in ("", "root") and _numeric_uid(user) != 0, user
    record(f"size rollsync/{name}:{TAG} {info['Size'] / 1e6:.1f} MB")
    assert info["Size"] < MAX_BYTES


def _files_holding(image: str, secrets: list[str]) -> tuple[list[str], list[str]]:
    """Every regular file of the image (`docker export` of a container never started): which hold a secret,
    and which look like secret files (.env, the build machine's CA bundle)."""
    created = docker("create", image).strip()
    holding: list[str] = []
    suspicious: list[str] = []
    needles = [s.encode() for s in secrets]
    try:
        export = subprocess.Popen([DOCKER, "export", created], stdout=subprocess.PIPE)
        assert export.stdout is not None
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if base.endswith(".env") or base == "build-ca.crt":
                    suspicious.append(member.name)
                if not member.isfile():
                    continue
                data = tar.extractfile(member)
                assert data is not None
                content = data.read()
                if any(n in content for n in needles):
                    holding.append(member.name)
        assert export.wait() == 0
    finally:
        docker("rm", created)
    return holding, suspicious


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_no_secret_in_history_or_files(name: str) -> None:
    image = f"rollsync/{name}:{TAG}"
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
    [info] = json.loads(docker("image", "inspect", image))
    secrets = _secret_values()
    assert len(secrets) >= 9  # the services' 5 passwords, the signing key, PostgreSQL/Grafana admin, SMTP
    assert not [s for s in secrets if s in history]
    assert not [s for s in secrets if s in json.dumps(info["Config"])]  # ENV, labels, CMD
    holding, suspicious = _files_holding(image, secrets)
    assert holding == [], f"a compose secret is inside {image}"
    # The build machine's CA bundle and any .env stay in the builder stage / out of the context.
    assert suspicious == []


def test_the_file_scan_finds_a_planted_secret(tmp_path: Path) -> None:
    """The scan above can fail: an image made with a secret in a file is caught."""
    secret = _secret_values()[0]
    (tmp_path / "Dockerfile").write_text(
        f"FROM rollsync/erp-simulator:{TAG}\nCOPY leak /app/leak\nCOPY x.env /tmp/x.env\n"
    )
    (tmp_path / "leak").write_text(f"token={secret}\n")
    (tmp_path / "x.env").write_text("A=b\n")
    planted = "rollsync-ct/planted:test"
    docker("buildx", "build", "--load", "-q", "-t", planted, str(tmp_path))
    try:
        holding, suspicious = _files_holding(planted, [secret])
    finally:
        docker("rmi", "-f", planted)
    assert holding == ["app/leak"]
    assert suspicious == ["tmp/x.env"]


@pytest.mark.parametrize(
    "service", ["ingest", "transform", "rules", "erp-connector", "erp-simulator", "alert-relay", "edge"]
)
def test_containers_run_as_non_root_with_a_read_only_root(service: str) -> None:
    [info] = json.loads(docker("inspect", container_id(service)))
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    assert info["Config"]["User"] not in ("", "0", "root")
    # And as the running process sees it: not uid 0, and / mounted read-only.
    probe = "id -u; grep -m1 ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1"
    done = subprocess.run(
        [*COMPOSE, "exec", "-T", service, "sh", "-c", probe], capture_output=True, text=True, check=True
    )
    uid, root_mode = done.stdout.split()
    assert int(uid) != 0
    assert root_mode == "ro"


def _timings() -> dict[str, float]:
    path = LOCAL_CT / "timings.txt"
    rows = [line.rsplit(" ", 1) for line in path.read_text().splitlines()] if path.exists() else []
    return {k: float(v) for k, v in rows}


def test_second_build_reuses_the_cache() -> None:
    image = "rollsync/ingest:" + TAG
    before = docker("image", "inspect", "-f", "{{.Id}}", image).strip()
    started = time.monotonic()
    done = subprocess.run(
        [DOCKER, "buildx", "build", "--load", "--progress=plain", "-t", image,
         "-f", str(ROOT / IMAGES["ingest"] / "Dockerfile"), *BUILD_ARGS, str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    second = time.monotonic() - started
    first = _timings().get(image)
    record(f"build of {image}: first in this run {first} s, second {second:.1f} s")
    # Every RUN and COPY step of the second build came from the cache: none was executed again.
    steps = set(re.findall(r"^#(\d+) \[[^\]]+\] (?:RUN|COPY)", done.stderr, re.M))
    cached = set(re.findall(r"^#(\d+) CACHED", done.stderr, re.M))
    assert len(steps) >= 8, done.stderr[-3000:]
    assert steps <= cached, f"steps run again: {sorted(steps - cached)}\n{done.stderr[-3000:]}"
    assert docker("image", "inspect", "-f", "{{.Id}}", image).strip() == before
