"""The client tool: a secret printed once works, a disabled client cannot log in, rotation retires the old secret."""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import httpx
import jwt
import pytest

from tests.support.stack import PYTHON, ROOT, ServiceProcess, service_env

pytestmark = pytest.mark.e2e


def _cli(*args: str) -> str:
    env = {**os.environ, **service_env("ingest")}
    done = subprocess.run(
        [PYTHON, "-m", "ingest.entrypoints.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _login(url: str, client_id: str, secret: str) -> int:
    body = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
    return httpx.post(f"{url}/auth/system-login", json=body, timeout=30).status_code


def test_create_list_disable_enable_rotate(services: dict[str, ServiceProcess]) -> None:
    url, client_id = services["ingest"].url, f"cli-{uuid.uuid4().hex[:8]}"
    scopes = "contracts:write,employees:write,processes:write,sync:read"  # seed 000's client scopes
    created = _cli("create", client_id, "--scopes", scopes, "--rows-per-day", "25000")
    secret = re.search(r"secret \(shown once\): (\S+)", created)
    assert secret is not None
    assert _login(url, client_id, secret.group(1)) == 200
    listed = [line for line in _cli("list").splitlines() if line.startswith(client_id)]
    assert listed == [f"{client_id}\t{scopes}\tactive\t60/min\t10000/day\t25000 rows/day"]
    assert secret.group(1) not in _cli("list")  # secrets are never listed, only their hashes stored
    assert _cli("set-rows-per-day", client_id, "40000").strip() == f"{client_id}: 40000 rows/day"
    assert any(x.startswith(client_id) and x.endswith("\t40000 rows/day") for x in _cli("list").splitlines())

    _cli("disable", client_id)
    assert _login(url, client_id, secret.group(1)) == 401
    _cli("enable", client_id)
    rotated = re.search(r"new secret (\S+)", _cli("rotate", client_id))
    assert rotated is not None
    assert _login(url, client_id, secret.group(1)) == 401
    assert _login(url, client_id, rotated.group(1)) == 200


def test_unknown_scopes_are_refused() -> None:
    env = {**os.environ, **service_env("ingest")}
    done = subprocess.run(
        [PYTHON, "-m", "ingest.entrypoints.cli", "create", "x-bad", "--scopes", "everything"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "unknown scopes" in done.stderr


def test_sales_staff_get_read_and_edit_scopes(services: dict[str, ServiceProcess]) -> None:
    """customers:edit (rules' sales writes) is grantable; customers:write stays the capture feed's."""
    client_id = f"sales-{uuid.uuid4().hex[:8]}"
    created = _cli("create", client_id, "--scopes", "customers:read,customers:edit")
    secret = re.search(r"secret \(shown once\): (\S+)", created)
    assert secret is not None
    r = httpx.post(
        f"{services['ingest'].url}/auth/system-login",
        json={"client_id": client_id, "client_secret": secret.group(1), "grant_type": "client_credentials"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert set(claims["scope"].split()) == {"customers:read", "customers:edit"}


@pytest.mark.parametrize("chosen", ["changethis-changethis-changethis", "x" * 40, "password123"])
def test_a_guessable_chosen_secret_is_refused_and_no_client_is_made(chosen: str) -> None:
    client_id = f"cli-weak-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **service_env("ingest"), "CHOSEN": chosen}
    done = subprocess.run(
        [PYTHON, "-m", "ingest.entrypoints.cli", "create", client_id, "--secret-env", "CHOSEN"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "too weak to be a client secret" in done.stderr
    assert chosen not in done.stderr + done.stdout
    assert not any(line.startswith(client_id) for line in _cli("list").splitlines())
