"""Bad configuration stops a service with one clear log line naming the problem, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import PYTHON, ROOT, TEST_PORTS, service_env

pytestmark = pytest.mark.e2e


def _start(overrides: dict[str, str | None]) -> tuple[int, list[str]]:
    env = {**os.environ, **service_env("ingest"), "INGEST_PORT": str(TEST_PORTS["ingest"] + 98)}
    for key, value in overrides.items():
        env.pop(key, None)
        env.pop(f"{key}_FILE", None)  # the stack passes secrets as files: a value given here replaces it
        if value is not None:
            env[key] = value
    done = subprocess.run(
        [PYTHON, "-m", "ingest"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return done.returncode, [line for line in done.stderr.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"INGEST_TOKEN_SIGNING_KEY_FILE": None}, "INGEST_TOKEN_SIGNING_KEY_FILE"),
        ({"INGEST_TOKEN_SIGNING_KEY_FILE": "/nonexistent/key.pem"}, "cannot read key file"),
        ({"INGEST_TOKEN_SIGNING_KEY_FILE": "{world_readable}"}, "readable or writable by others"),
        ({"INGEST_TOKEN_SIGNING_KEY_FILE": "{not_a_key}"}, "holds no usable private key"),
        ({"INGEST_TOKEN_PUBLISHED_KEY_FILES": "/nonexistent/old.pem"}, "cannot read key file"),
        (
            {
                "INGEST_ENV": "prod",
                "INGEST_KAFKA__REPLICATION_FACTOR": "1",
                "INGEST_POSTGRES__PASSWORD": "y" * 40,
            },
            "replication_factor must be >= 3",
        ),
        ({"INGEST_POSTGRES__PORT": str(_free_port())}, "cannot reach PostgreSQL"),
        ({"INGEST_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{_free_port()}"}, "cannot reach Kafka"),
        ({"INGEST_PORT": "bad"}, "INGEST_PORT"),
        (
            {"INGEST_POSTGRES__PASSWORD_FILE": "/nonexistent/pg-ingest"},
            "INGEST_POSTGRES__PASSWORD_FILE: cannot read /nonexistent/pg-ingest",
        ),
    ],
)
def test_bad_configuration_is_one_clear_line(
    overrides: dict[str, str | None], expected: str, tmp_path: Path
) -> None:
    key = Path(service_env("ingest")["INGEST_TOKEN_SIGNING_KEY_FILE"])
    files = {"world_readable": tmp_path / "shared.pem", "not_a_key": tmp_path / "garbage.pem"}
    files["world_readable"].write_bytes(key.read_bytes())
    files["world_readable"].chmod(0o644)
    files["not_a_key"].write_text("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n")
    files["not_a_key"].chmod(0o600)
    named = {k: str(v) for k, v in files.items()}
    code, lines = _start({k: v.format(**named) if v else v for k, v in overrides.items()})
    assert code == 1
    assert len(lines) == 1, lines
    assert expected in lines[0]
    assert "Traceback" not in lines[0]


def test_a_taken_port_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, lines = _start({"INGEST_PORT": str(port)})
    assert code == 1
    assert len(lines) == 1
    assert f"port 127.0.0.1:{port} is not available" in lines[0]
