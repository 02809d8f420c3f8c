"""The README's Docker path starts with `scripts/stack.sh env`: on a fresh clone it must write real secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from common.token_keys import load_private_key, load_public_key, public_jwk
from tests.deploy.tooling import ROOT

SECRET_VARS = (
    "PG_INGEST",
    "PG_TRANSFORM",
    "PG_RULES",
    "PG_ERP",
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


def test_fresh_clone_gets_an_ed25519_signing_key_for_ingest_only(tmp_path: Path) -> None:
    """No .venv yet: the key comes from openssl. Only ingest is pointed at it; the others get the JWKS URL."""
    clone = _fresh_clone(tmp_path)
    result = _stack_env(clone)
    assert result.returncode == 0, result.stderr
    key = clone / ".local" / "secrets" / "token-signing.pem"
    assert key.stat().st_mode & 0o077 == 0
    assert key.parent.stat().st_mode & 0o077 == 0
    assert load_private_key(key).public_key()  # Ed25519, PKCS#8 PEM
    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert env["INGEST_TOKEN_SIGNING_KEY_FILE"] == str(key)
    assert not [k for k in env if "TOKEN_SECRET" in k or ("SIGNING" in k and not k.startswith("INGEST_"))]
    for prefix in ("TRANSFORM_", "RULES_", "ERP_CONNECTOR_"):
        assert env[f"{prefix}TOKEN_JWKS_URL"].endswith("/.well-known/jwks.json")
    first = key.read_bytes()
    assert _stack_env(clone).returncode == 0
    assert key.read_bytes() == first  # kept, not made again


def test_an_old_checkouts_hs256_token_secret_is_dropped(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path)
    (clone / ".local").mkdir()
    kept = "".join(f"{var}=kept-{var.lower()}-0123456789abcdef\n" for var in SECRET_VARS)
    (clone / ".local" / "secrets.env").write_text(kept + "TOKEN_SECRET=old-shared-hs256-key-0123456789\n")
    assert _stack_env(clone).returncode == 0
    assert (clone / ".local" / "secrets.env").read_text() == kept


def test_rotate_then_retire_the_signing_key_without_a_venv(tmp_path: Path) -> None:
    """`make up`'s rotation: a new key signs, the old public half stays published until retired."""
    clone = _fresh_clone(tmp_path)
    assert _stack_env(clone).returncode == 0
    secrets = clone / ".local" / "secrets"
    old = load_private_key(secrets / "token-signing.pem").public_key()

    def stack(command: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROLLSYNC_")}
        bash = shutil.which("bash") or "/bin/bash"
        done = subprocess.run(
            [bash, str(clone / "scripts" / "stack.sh"), command], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, done.stderr
        out = _stack_env(clone).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("INGEST_TOKEN"))

    rotated = stack("rotate-signing-key")
    new = load_private_key(secrets / "token-signing.pem").public_key()
    assert public_jwk(new)["kid"] != public_jwk(old)["kid"]
    previous = secrets / "token-signing.previous.pem"
    assert b"PRIVATE" not in previous.read_bytes()  # only the public half is kept
    assert public_jwk(load_public_key(previous))["kid"] == public_jwk(old)["kid"]
    assert rotated["INGEST_TOKEN_PUBLISHED_KEY_FILES"] == str(previous)
    retired = stack("retire-signing-key")
    assert not previous.exists()
    assert "INGEST_TOKEN_PUBLISHED_KEY_FILES" not in retired
    assert public_jwk(load_private_key(secrets / "token-signing.pem").public_key()) == public_jwk(new)


def test_the_printed_environment_holds_paths_to_private_files_never_a_secret(tmp_path: Path) -> None:
    """Issue 10: what the local stack gives a process (and may show) names files; the files hold the secrets."""
    clone = _fresh_clone(tmp_path)
    result = _stack_env(clone)
    assert result.returncode == 0, result.stderr
    secrets = _secrets(clone)
    assert not [var for var, value in secrets.items() if value in result.stdout + result.stderr]
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())
    files = {key: Path(value) for key, value in env.items() if key.endswith("_FILE")}
    expected = {f"{p}_POSTGRES__PASSWORD_FILE" for p in ("INGEST", "TRANSFORM", "RULES", "ERP_CONNECTOR")}
    key_file = "INGEST_TOKEN_SIGNING_KEY_FILE"  # the private key itself (test above), not a secrets.env value
    assert set(files) == {
        *expected,
        "ERP_CONNECTOR_ERP__PASSWORD_FILE",
        "ERP_SIMULATOR_PASSWORD_FILE",
        key_file,
    }
    for key, path in files.items():
        assert path.stat().st_mode & 0o777 == 0o600, key
        assert key == key_file or path.read_text() in secrets.values(), key
    assert (clone / ".local" / "secrets").stat().st_mode & 0o777 == 0o700
    assert Path(env["INGEST_POSTGRES__PASSWORD_FILE"]).read_text() == secrets["PG_INGEST"]
    assert Path(env["ERP_SIMULATOR_PASSWORD_FILE"]).read_text() == secrets["ERP_PASSWORD"]
