"""Bad configuration stops a service with one clear log line naming the problem, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess

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
        ({"INGEST_TOKEN_SECRET": None}, "INGEST_TOKEN_SECRET"),
        ({"INGEST_ENV": "prod", "INGEST_TOKEN_SECRET": "changethis"}, "token_secret is a placeholder"),
        (
            {
                "INGEST_ENV": "prod",
                "INGEST_KAFKA__REPLICATION_FACTOR": "1",
                "INGEST_TOKEN_SECRET": "x" * 40,
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
def test_bad_configuration_is_one_clear_line(overrides: dict[str, str | None], expected: str) -> None:
    code, lines = _start(overrides)
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
