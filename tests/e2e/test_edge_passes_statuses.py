"""Through the nginx edge a service's own answer arrives as the service sent it (bad input: 422 with no
Retry-After; issue 10, item 4), whatever its status; the edge's own 503 `upstream_unavailable` (+ Retry-After) is
kept for an upstream that does not answer; failed logins are counted per client address as the edge sees it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


# ---- the edge keeps 502/503/504 for upstreams that do not answer, and passes every answer they give ----------

FAKE_EDGE_PORT, FAKE_UPSTREAM_PORT = EDGE_PORT + 1, EDGE_PORT + 2
PASSED_THROUGH = (400, 401, 404, 409, 413, 422, 429, 500, 502, 503, 504)


class _FakeService(BaseHTTPRequestHandler):
    """Answers GET /auth/fake?status=N with that status, a JSON body and headers of its own; /auth/close
    closes the connection without answering."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/auth/close"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status = int(self.path.rsplit("=", 1)[1])
        body = json.dumps({"code": f"app_{status}", "message": "from the app", "request_id": "r"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", "7")
        self.send_header("WWW-Authenticate", 'Bearer realm="app"')
        self.send_header("X-App", "yes")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def fake_edge() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    server = ThreadingHTTPServer(("127.0.0.1", FAKE_UPSTREAM_PORT), _FakeService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ports = {f"ROLLSYNC_{s.upper().replace('-', '_')}_PORT": str(FAKE_UPSTREAM_PORT) for s in UPSTREAMS}
    env = {"ROLLSYNC_NGINX_INSTANCE": "nginx-fake-upstream-test", "ROLLSYNC_EDGE_PORT": str(FAKE_EDGE_PORT)}
    _run_edge("start", {**env, **ports})
    try:
        yield f"http://127.0.0.1:{FAKE_EDGE_PORT}", server
    finally:
        _run_edge("stop", {**env, **ports})
        server.shutdown()
        server.server_close()


def _run_edge(action: str, env: dict[str, str]) -> None:
    script = str(ROOT / "scripts" / "nginx.sh")
    subprocess.run([script, action], env={**os.environ, **env}, check=True, capture_output=True)


async def test_every_application_status_passes_the_edge_as_sent(
    fake_edge: tuple[str, ThreadingHTTPServer], http: httpx.AsyncClient
) -> None:
    """The app's own 4xx and 5xx, 502/503/504 included, arrive with its body and headers, never rewritten."""
    edge_url, _ = fake_edge
    for status in PASSED_THROUGH:
        r = await http.get(f"{edge_url}/auth/fake?status={status}")
        assert (r.status_code, r.json()["code"]) == (status, f"app_{status}"), r.text
        assert r.headers["retry-after"] == "7" and r.headers["x-app"] == "yes"
        assert r.headers["www-authenticate"] == 'Bearer realm="app"'


async def test_an_upstream_that_does_not_answer_gets_the_edges_own_503(
    fake_edge: tuple[str, ThreadingHTTPServer], http: httpx.AsyncClient
) -> None:
    edge_url, server = fake_edge
    closed = await http.get(f"{edge_url}/auth/close")  # nginx: 502 (upstream closed without a response)
    server.shutdown()
    server.server_close()
    down = await http.get(f"{edge_url}/auth/fake?status=200")  # nginx: 502 (connection refused)
    for r in (closed, down):
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "upstream_unavailable"
        assert int(r.headers["retry-after"]) >= 1


async def test_failed_logins_through_the_edge_count_per_client_address(
    edge_url: str, services: dict[str, ServiceProcess]
) -> None:
    """The edge overwrites X-Real-IP with the connection's address: a client cannot pick its source."""
    octets = uuid.uuid4().bytes[:3]
    local = f"127.{octets[0] % 254 + 1}.{octets[1]}.{octets[2] % 254 + 1}"
    codes = []
    async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=local), timeout=10) as c:
        for i in range(40):
            spoof = f"203.0.113.{i + 1}"
            r = await c.post(
                f"{edge_url}/auth/system-login",
                json={"client_id": f"guess-{i}", "client_secret": "x", "grant_type": "client_credentials"},
                headers={"X-Real-IP": spoof, "X-Forwarded-For": spoof},
            )
            codes.append(r.status_code)
    assert 429 in codes and codes.index(429) >= 30, codes
    assert set(codes[: codes.index(429)]) == {401}, codes
