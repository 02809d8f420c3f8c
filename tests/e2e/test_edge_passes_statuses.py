"""Through the nginx edge a service's own answer to bad input (422) arrives as the service sent it, with no
Retry-After (issue 10, item 4; before the shared input check these were 500 `internal_error`)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.stack import ROOT, TEST_PORTS, ServiceProcess

pytestmark = pytest.mark.e2e
BIG = "99999999999999999999999"


EDGE_PORT = TEST_PORTS["ingest"] + 279  # this test's own edge instance, beside the tests' service ports


def _edge(action: str) -> None:
    env = {
        **os.environ,
        "ROLLSYNC_NGINX_INSTANCE": "nginx-status-test",
        "ROLLSYNC_EDGE_PORT": str(EDGE_PORT),
        **{f"ROLLSYNC_{s.upper().replace('-', '_')}_PORT": str(TEST_PORTS[s]) for s in UPSTREAMS},
    }
    subprocess.run([str(ROOT / "scripts" / "nginx.sh"), action], env=env, check=True, capture_output=True)


UPSTREAMS = ("ingest", "transform", "rules", "erp-connector")


@pytest.fixture
def edge_url(services: dict[str, ServiceProcess]) -> Iterator[str]:
    _edge("start")
    try:
        yield f"http://127.0.0.1:{EDGE_PORT}"
    finally:
        _edge("stop")


async def test_application_errors_pass_the_edge_unchanged(
    admin: asyncpg.Connection, edge_url: str, http: httpx.AsyncClient
) -> None:
    client_id, secret = await create_client(admin)
    auth = bearer(await login(http, edge_url, client_id, secret))
    json_auth = {**auth, "Content-Type": "application/json"}
    cases = {
        "query NUL": await http.get(f"{edge_url}/contracts?q=a%00b", headers=auth),
        "offset beyond 64 bits": await http.get(f"{edge_url}/contracts?offset={BIG}", headers=auth),
        "capture NUL": await http.post(
            f"{edge_url}/customers/capture", json={"wechat_id": f"w{uuid.uuid4().hex}\u0000"}, headers=auth
        ),
        "nested integer": await http.post(
            f"{edge_url}/customers/capture",
            content=f'{{"wechat_id":"w{uuid.uuid4().hex}","extracted_company_info":{{"n":{BIG}}}}}',
            headers=json_auth,
        ),
    }
    answers = {name: (r.status_code, r.json().get("code")) for name, r in cases.items()}
    bad = {name: a for name, a in answers.items() if a[0] != 422}
    assert not bad, str(bad)
    assert all("retry-after" not in r.headers for r in cases.values())
