"""Dockerfiles: the shape STYLE.md §14 asks for, and a replay of each builder stage with uv (no Docker here)."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.deploy.tooling import ROOT, SERVICES

IMAGES = {
    svc: (ROOT / "services" / svc, dist, module) for svc, (_, _, dist, module, _, _) in SERVICES.items()
}
IMAGES["erp-simulator"] = (ROOT / "devkit" / "erp-simulator", "rollsync-erp-simulator", "erp_simulator")
IMAGES["alert-relay"] = (ROOT / "services" / "alert-relay", "rollsync-alert-relay", "alert_relay")
HEALTH = dict.fromkeys(SERVICES, "/healthz") | {"erp-simulator": "/_sim/state", "alert-relay": "/healthz"}


def _lines(dockerfile: Path) -> list[str]:
    """Instructions with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _stages(dockerfile: Path) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = "preamble"
    for line in _lines(dockerfile):
        if line.upper().startswith("FROM "):
            current = line.split()[-1]
        stages.setdefault(current, []).append(line)
    return stages


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_dockerfile_builds_from_the_root_on_a_pinned_base_and_runs_as_non_root(image: str) -> None:
    directory, dist, module = IMAGES[image]
    assert tomllib.loads((directory / "pyproject.toml").read_text())["project"]["name"] == dist
    stages = _stages(directory / "Dockerfile")
    [arg] = [line for line in stages["preamble"] if line.startswith("ARG PYTHON_BASE=")]
    assert re.fullmatch(r"ARG PYTHON_BASE=python:3\.11-slim[\w.-]*@sha256:[0-9a-f]{64}", arg)
    assert "ARG PYTHON_BUILDER_BASE=${PYTHON_BASE}" in stages["preamble"]
    assert stages["builder"][0] == "FROM ${PYTHON_BUILDER_BASE} AS builder"
    assert stages["runtime"][0] == "FROM ${PYTHON_BASE} AS runtime"
    # No `# syntax=` frontend: it is pulled from a registry; the engine's built-in one handles RUN --mount.
    assert "# syntax=" not in (directory / "Dockerfile").read_text()
    syncs = [line for line in stages["builder"] if "uv sync" in line]
    assert syncs
    assert all("--frozen --no-dev" in line and f"--package {dist}" in line for line in syncs)
    runtime = stages["runtime"]
    [user] = [line for line in runtime if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    [health] = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert HEALTH[image] in health
    assert runtime[-1] == f'CMD ["python", "-m", "{module}"]'
    migrations = f"COPY {directory.relative_to(ROOT).as_posix()}/migrations /app/migrations"
    copies = [line for line in runtime if line.startswith(("COPY ", "ADD "))]
    assert copies[0] == "COPY --from=builder /app/.venv /app/.venv"
    assert copies[1:] == ([migrations] if image in SERVICES else []), (
        "the runtime takes the venv (+ migrations)"
    )


def test_dockerignore_keeps_local_state_and_caches_out_of_the_context() -> None:
    patterns = set(_ignore_patterns())
    assert {
        ".local",
        ".venv",
        "**/__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".git",
    } <= patterns
    assert not _ignored("uv.lock")
    assert not _ignored("libs/common/src/common/sql/plumbing.sql")


def _ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(rel: str) -> bool:
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in _ignore_patterns():
        bare = pattern.removeprefix("**/")
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            return True
        if pattern.startswith("**/") and any(fnmatch.fnmatch(part, bare) for part in parts):
            return True
    return False


def _copy_context(src: str, dest: Path) -> None:
    """COPY SRC DEST from the build context, honouring .dockerignore."""
    source = ROOT / src
    if source.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
        return
    for path in source.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if path.is_file() and not _ignored(rel):
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_builder_stage_replayed_with_uv_installs_a_runnable_service(image: str, tmp_path: Path) -> None:
    """COPY and `uv sync` of the builder run as written (uv stands in for Docker; the base is this Python)."""
    uv = shutil.which("uv")
    assert uv, "uv is missing (scripts/stack.sh bootstrap installs it)"
    directory, _, module = IMAGES[image]
    workdir, venv = tmp_path / "src", tmp_path / "app" / ".venv"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_LINK_MODE": "copy",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_COMPILE_BYTECODE": "0",
    }
    env.pop("VIRTUAL_ENV", None)
    for line in _stages(directory / "Dockerfile")["builder"]:
        if line.startswith("COPY "):
            *sources, dest = shlex.split(line)[1:]
            for src in sources:
                _copy_context(src, workdir / dest / Path(src).name if dest.endswith("/") else workdir / dest)
        elif line.startswith("RUN ") and "uv sync" in line:
            command = shlex.split(line[line.index("uv sync") :])
            result = subprocess.run(
                [uv, *command[1:]],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert result.returncode == 0, f"{line}\n{result.stderr[-3000:]}"
    python = venv / "bin" / "python"
    probe = f"import importlib.util as u; assert u.find_spec('{module}.__main__'), '{module}'"
    if image in SERVICES:
        probe += "; import importlib.resources as r; assert r.files('common').joinpath('sql/plumbing.sql').is_file()"
    subprocess.run([str(python), "-c", probe], cwd=tmp_path, check=True, timeout=60)
    if image in SERVICES:
        assert sorted((directory / "migrations").glob("*.sql")), "the image copies services/<svc>/migrations"
