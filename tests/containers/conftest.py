"""Only `make test-containers` (scripts/test_containers.sh) runs this directory: it needs the compose stack."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.containers.stack import EDGE, EDGE_CA, compose

ALL_SCOPES = "contracts:write,progress:write,customers:write,sync:read,admin"


@pytest.fixture(scope="session")
def client() -> tuple[str, str]:
    client_id, secret = f"ct-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex + uuid.uuid4().hex
    compose(
        "exec", "-T", "-e", f"CT_SECRET={secret}", "ingest", "python", "-m", "ingest.entrypoints.cli", "create",
        client_id, "--scopes", ALL_SCOPES, "--per-minute", "100000", "--per-day", "10000000",
        "--secret-env", "CT_SECRET",
        env={"CT_SECRET": secret},
    )  # fmt: skip
    return client_id, secret


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=EDGE, timeout=30, verify=EDGE_CA) as c:
        yield c


def login(http: httpx.Client, client: tuple[str, str]) -> dict[str, str]:
    r = http.post(
        "/auth/system-login",
        json={"client_id": client[0], "client_secret": client[1], "grant_type": "client_credentials"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    assert os.environ.get("ROLLSYNC_CT_COMPOSE"), "run through `make test-containers`"
