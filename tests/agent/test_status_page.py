"""The status page over real HTTP on 127.0.0.1: content, escaping, and who may press 立即同步."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rollsync_agent.state import StateStore, load_snapshot
from rollsync_agent.status_model import StatusSnapshot
from rollsync_agent.status_page import AUTH_HELP, StatusServer, serve
from tests.agent.status_fakes import (
    HOSTILE_CONTRACT,
    HOSTILE_MESSAGE,
    HOSTILE_REASON,
    Controlled,
    busy_snapshot,
)


@pytest.fixture
def ctl() -> Controlled:
    return Controlled(busy_snapshot())


@pytest.fixture
def server(ctl: Controlled) -> Iterator[StatusServer]:
    srv = serve(ctl.snapshot, ctl.request_sync, "127.0.0.1", 0)
    yield srv
    srv.stop()


def call(
    srv: StatusServer, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


class Elements(HTMLParser):
    """Tags as the browser's parser sees them, and the text of each table cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(page: bytes) -> Elements:
    parser = Elements()
    parser.feed(page.decode())
    return parser


def test_status_json_is_the_snapshot_and_its_tag_follows_changes(
    server: StatusServer, ctl: Controlled
) -> None:
    status, headers, body = call(server, "GET", "/status.json")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert StatusSnapshot.model_validate_json(body) == ctl.snap
    ctl.snap = ctl.snap.model_copy(update={"pending_local_changes": 4})
    _, changed, body = call(server, "GET", "/status.json")
    assert json.loads(body)["pending_local_changes"] == 4
    assert changed["X-Snapshot-Tag"] != headers["X-Snapshot-Tag"]


def test_page_shows_state_counts_rows_and_errors(server: StatusServer) -> None:
    status, headers, page = call(server, "GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.decode()
    assert '<span id="state" class="ok">同步状态: 同步成功</span>' in text
    assert "120 行 lines" in text
    assert "7 行 lines" in text
    assert '<td id="pending">3</td>' in text
    assert '<span id="rejected-count">2</span>' in text
    assert "交货日期 2026-13-01 不是日期" in text
    assert "连接云端超时 &lt;timeout&gt;" in text
    assert 'id="sync-now"' in text
    assert "立即同步" in text


def test_hostile_values_stay_text(server: StatusServer) -> None:
    _, headers, page = call(server, "GET", "/")
    elements = parse(page)
    assert "img" not in elements.tags
    assert "b" not in elements.tags
    assert elements.tags.count("script") == 1  # the page's own
    # cells 0-2: last upload, last download, waiting; then the rejected rows
    assert elements.cells[3:7] == [HOSTILE_CONTRACT, "P-1", HOSTILE_REASON, HOSTILE_MESSAGE]
    # Second line of defence: inline script without the per-response nonce would not run.
    assert "script-src 'nonce-" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("state", "label"),
    [("disconnected", "未连接"), ("syncing", "同步中"), ("ok", "同步成功"), ("failed", "同步失败")],
)
def test_each_state_has_its_label_and_colour_class(
    server: StatusServer, ctl: Controlled, state: str, label: str
) -> None:
    ctl.snap = busy_snapshot(state)
    _, _, page = call(server, "GET", "/")
    assert f'<span id="state" class="{state}">同步状态: {label}</span>' in page.decode()


def test_refused_secret_shows_failed_and_what_to_do(server: StatusServer, ctl: Controlled) -> None:
    ctl.snap = busy_snapshot("disconnected", auth_failed=True)
    _, _, page = call(server, "GET", "/")
    text = page.decode()
    assert '<span id="state" class="failed">同步状态: 同步失败</span>' in text
    assert "client_secret" in AUTH_HELP
    assert f'<p id="auth">{escape(AUTH_HELP)}</p>' in text


def test_sync_now_from_the_page_is_accepted(server: StatusServer, ctl: Controlled) -> None:
    origin = f"http://127.0.0.1:{server.port}"
    status, _, body = call(server, "POST", "/sync-now", {"Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert (status, json.loads(body)) == (202, {"accepted": True})
    status, _, _ = call(server, "POST", "/sync-now")  # the CLI: no browser headers
    assert status == 202
    assert ctl.sync_requests == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:1"},  # another local web page
        {"Origin": "null"},  # sandboxed frame or file:// page
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_sync_now_from_another_site_is_refused(
    server: StatusServer, ctl: Controlled, headers: dict[str, str]
) -> None:
    status, _, body = call(server, "POST", "/sync-now", headers)
    assert status == 403
    assert json.loads(body) == {"code": "cross_site_request"}
    assert ctl.sync_requests == 0


def test_sync_now_is_post_only(server: StatusServer, ctl: Controlled) -> None:
    status, headers, _ = call(server, "GET", "/sync-now")
    assert (status, headers["Allow"]) == (405, "POST")
    assert ctl.sync_requests == 0


def test_foreign_host_is_refused_so_dns_rebinding_reads_nothing(
    server: StatusServer, ctl: Controlled
) -> None:
    rebound = {"Host": f"evil.example:{server.port}"}
    for method, path in [("GET", "/status.json"), ("GET", "/"), ("POST", "/sync-now")]:
        status, _, body = call(server, method, path, rebound)
        assert status == 421
        assert b"HT-2026-002" not in body
    assert ctl.sync_requests == 0
    assert call(server, "GET", "/status.json", {"Host": f"localhost:{server.port}"})[0] == 200


def test_broken_state_answers_503_and_the_button_still_works(ctl: Controlled) -> None:
    def broken() -> StatusSnapshot:
        raise RuntimeError("state store locked")

    srv = serve(broken, ctl.request_sync, "127.0.0.1", 0)
    try:
        assert call(srv, "GET", "/status.json")[0] == 503
        assert call(srv, "GET", "/")[0] == 503
        assert call(srv, "POST", "/sync-now")[0] == 202
    finally:
        srv.stop()
    assert ctl.sync_requests == 1


def test_failing_sync_request_answers_503_and_the_page_keeps_serving(ctl: Controlled) -> None:
    def broken() -> None:
        raise RuntimeError("run loop gone")

    srv = serve(ctl.snapshot, broken, "127.0.0.1", 0)
    try:
        status, _, body = call(srv, "POST", "/sync-now")
        assert (status, json.loads(body)) == (503, {"code": "sync_request_failed"})
        assert call(srv, "GET", "/status.json")[0] == 200
    finally:
        srv.stop()


def test_concurrent_clicks_and_reads_are_all_served(server: StatusServer, ctl: Controlled) -> None:
    def one(i: int) -> int:
        return call(server, "POST", "/sync-now")[0] if i % 2 else call(server, "GET", "/")[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(one, range(64)))
    assert statuses.count(202) == 32
    assert statuses.count(200) == 32
    assert ctl.sync_requests == 32


def test_stop_frees_the_port(ctl: Controlled) -> None:
    srv = serve(ctl.snapshot, ctl.request_sync, "127.0.0.1", 0)
    port = srv.port
    srv.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    again = serve(ctl.snapshot, ctl.request_sync, "127.0.0.1", port)
    assert again.port == port
    again.stop()


def test_port_in_use_is_a_clear_error(server: StatusServer, ctl: Controlled) -> None:
    with pytest.raises(OSError, match=f"status page cannot listen on 127.0.0.1:{server.port}"):
        serve(ctl.snapshot, ctl.request_sync, "127.0.0.1", server.port)


def test_page_over_the_agents_state_file_while_the_loop_writes(tmp_path: Path, ctl: Controlled) -> None:
    """As the run loop wires it: every request reads the state file while another thread writes it."""
    path = tmp_path / "agent.state"
    writer = StateStore(path)
    srv = serve(lambda: load_snapshot(path), ctl.request_sync, "127.0.0.1", 0)
    stop = threading.Event()

    def loop() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            writer.put(state="syncing" if n % 2 else "ok", last_upload_count=n, pending_local_changes=n)
            writer.error(f"round {n} <b>")

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda i: call(srv, "GET", "/status.json" if i % 2 else "/"), range(40)))
    finally:
        stop.set()
        thread.join()
        srv.stop()
        writer.close()
    assert [status for status, _, _ in answers] == [200] * 40
    counts = [json.loads(body)["last_upload_count"] for _, _, body in answers[1::2]]
    assert max(counts) > 0
    assert all(b"<b>" not in body for _, _, body in answers[::2])
