"""The README's Docker path starts with `scripts/stack.sh env`: on a fresh clone it must write real secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.deploy.tooling import ROOT

SECRET_VARS = (
    "PG_INGEST",
    "PG_TRANSFORM",
    "PG_RULES",
    "PG_ERP",
    "TOKEN_SECRET",
    "DEV_CLIENT_SECRET",
    "ERP_PASSWORD",
)


def _fresh_clone(tmp_path: Path) -> Path:
    """Only scripts/: no .venv, exactly what a new user has before `make bootstrap`."""
    clone = tmp_path / "clone"
    shutil.copytree(ROOT / "scripts", clone / "scripts")
    return clone


def _stack_env(clone: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLLSYNC_")}
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(clone / "scripts" / "stack.sh"), "env"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _secrets(clone: Path) -> dict[str, str]:
    lines = (clone / ".local" / "secrets.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_fresh_clone_gets_non_empty_distinct_secrets(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path)
    result = _stack_env(clone)
    assert result.returncode == 0, result.stderr
    secrets = _secrets(clone)
    assert sorted(secrets) == sorted(SECRET_VARS)
    assert all(len(value) >= 24 for value in secrets.values()), secrets
    assert len(set(secrets.values())) == len(SECRET_VARS)
    assert (clone / ".local" / "secrets.env").stat().st_mode & 0o077 == 0


def test_stale_file_with_empty_secrets_is_regenerated(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path)
    (clone / ".local").mkdir()
    (clone / ".local" / "secrets.env").write_text("".join(f"{var}=\n" for var in SECRET_VARS))
    result = _stack_env(clone)
    assert result.returncode == 0, result.stderr
    assert all(len(value) >= 24 for value in _secrets(clone).values())


def test_complete_file_is_kept(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path)
    (clone / ".local").mkdir()
    kept = "".join(f"{var}=kept-{var.lower()}-0123456789abcdef\n" for var in SECRET_VARS)
    (clone / ".local" / "secrets.env").write_text(kept)
    assert _stack_env(clone).returncode == 0
    assert (clone / ".local" / "secrets.env").read_text() == kept


def test_the_printed_environment_holds_paths_to_private_files_never_a_secret(tmp_path: Path) -> None:
    """Issue 10: what the local stack gives a process (and may show) names files; the files hold the secrets."""
    clone = _fresh_clone(tmp_path)
    result = _stack_env(clone)
    assert result.returncode == 0, result.stderr
    secrets = _secrets(clone)
    assert not [var for var, value in secrets.items() if value in result.stdout + result.stderr]
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())
    files = {key: Path(value) for key, value in env.items() if key.endswith("_FILE")}
    expected = {
        f"{p}_{n}_FILE"
        for p in ("INGEST", "TRANSFORM", "RULES", "ERP_CONNECTOR")
        for n in ("POSTGRES__PASSWORD", "TOKEN_SECRET")
    }
    assert set(files) == {*expected, "ERP_CONNECTOR_ERP__PASSWORD_FILE", "ERP_SIMULATOR_PASSWORD_FILE"}
    for key, path in files.items():
        assert path.stat().st_mode & 0o777 == 0o600, key
        assert path.read_text() in secrets.values(), key
    assert (clone / ".local" / "secrets").stat().st_mode & 0o777 == 0o700
    assert Path(env["INGEST_TOKEN_SECRET_FILE"]).read_text() == secrets["TOKEN_SECRET"]
    assert Path(env["ERP_SIMULATOR_PASSWORD_FILE"]).read_text() == secrets["ERP_PASSWORD"]
