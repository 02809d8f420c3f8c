"""The compose edge (deploy/nginx/rollsync.compose.conf) run by a real nginx with a self-signed certificate from
`scripts/stack.sh dev-cert`: HTTPS proxies with HSTS, errors carry HSTS too, HTTP only 308s, TLS < 1.2 is refused."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.tooling import ROOT

COMPOSE_CONF = ROOT / "deploy" / "nginx" / "rollsync.compose.conf"
HSTS = "max-age=31536000; includeSubDomains"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Stub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "proto": self.headers.get("X-Forwarded-Proto")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def local_conf(conf: str, tmp: Path, ports: dict[str, int], http_port: int, https_port: int) -> str:
    """The compose config with container names, ports and paths pointed at this machine."""
    for upstream, port in ports.items():
        conf = re.sub(rf"server {upstream}:\d+", f"server 127.0.0.1:{port}", conf)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{http_port};")
    conf = conf.replace("listen 8443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    conf = conf.replace("/tmp/", f"{tmp}/")  # noqa: S108 - rewriting the container's paths
    conf = conf.replace("/dev/stdout", f"{tmp}/access.log")
    conf = conf.replace("/dev/stderr", f"{tmp}/error.log")
    return conf.replace("/etc/rollsync/tls/", f"{tmp}/tls/")  # after /tmp/: tmp is under /tmp


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, Path]]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.fail("nginx is missing: scripts/ops_tools.sh installs it")
    tmp = tmp_path_factory.mktemp("edge-tls")
    subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), "dev-cert", str(tmp / "tls")], check=True, capture_output=True
    )
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    down = free_port()  # nothing listens: nginx's own 503
    ports = {"ingest": stub.server_address[1], "transform": down, "rules": down, "erp-connector": down}
    http_port, https_port = free_port(), free_port()
    (tmp / "nginx.conf").write_text(local_conf(COMPOSE_CONF.read_text(), tmp, ports, http_port, https_port))
    cmd = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    started = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp / "error.log").read_text()
                time.sleep(0.1)
        yield http_port, https_port, tmp / "tls" / "tls.crt"
    finally:
        subprocess.run([*cmd, "-s", "stop"], capture_output=True, check=False)
        stub.shutdown()


def https_get(port: int, cafile: Path, path: str) -> http.client.HTTPResponse:
    context = ssl.create_default_context(cafile=str(cafile))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    conn.request("GET", path, headers={"Host": "localhost"})
    return conn.getresponse()


def test_https_is_proxied_with_hsts(edge: tuple[int, int, Path]) -> None:
    _, https_port, cafile = edge
    response = https_get(https_port, cafile, "/auth/token")
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == HSTS
    assert json.loads(response.read()) == {"path": "/auth/token", "proto": "https"}


@pytest.mark.parametrize(("path", "status"), [("/no/such/route", 404), ("/rules", 503)])
def test_error_answers_carry_hsts_too(edge: tuple[int, int, Path], path: str, status: int) -> None:
    _, https_port, cafile = edge
    response = https_get(https_port, cafile, path)
    assert response.status == status
    assert response.getheader("Strict-Transport-Security") == HSTS


def test_plain_http_only_redirects_to_https(edge: tuple[int, int, Path]) -> None:
    http_port, _, _ = edge
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    conn.request("POST", "/ingest/x?a=1", body=b"{}", headers={"Host": "rollsync.example.com"})
    response = conn.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == "https://rollsync.example.com/ingest/x?a=1"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_before_1_2_is_refused(edge: tuple[int, int, Path], version: ssl.TLSVersion) -> None:
    _, https_port, _ = edge
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")  # let this client offer the old versions at all
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", https_port), timeout=10) as sock, pytest.raises(ssl.SSLError):
        context.wrap_socket(sock).close()
