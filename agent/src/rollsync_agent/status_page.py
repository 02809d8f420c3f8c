"""The agent's status page: seed 000 §3's 同步状态 label and 立即同步 button, in a browser on this PC.

    GET  /             the page, rendered here with every value HTML-escaped; it reloads itself when the
                       snapshot changes (it polls /status.json and compares the X-Snapshot-Tag header)
    GET  /status.json  the StatusSnapshot
    POST /sync-now     202 and asks the run loop for a round now

Only the standard library (http.server in a daemon thread), bound to 127.0.0.1 by default. Another web page
open in the clerk's browser could send requests here, so every request must name this server in Host (no DNS
rebinding) and /sync-now is POST-only and refused when Origin / Sec-Fetch-Site say it came from another site.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import datetime
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from string import Template
from typing import cast

from rollsync_agent.status_model import StatusSnapshot

log = logging.getLogger(__name__)

# state -> (the seed's Chinese label, English). Colours are the seed's System.Drawing ones, in PAGE's CSS.
STATE_LABELS: dict[str, tuple[str, str]] = {
    "disconnected": ("未连接", "not connected"),
    "syncing": ("同步中", "syncing"),
    "ok": ("同步成功", "synced"),
    "failed": ("同步失败", "sync failed"),
}

AUTH_HELP = (
    "云端拒绝了本机的客户端密钥：请核对同步程序配置文件中的 client_id 和 client_secret，"
    "或请管理员重新发放密钥，然后重启同步程序。"
    " The cloud refused this PC's client secret: check client_id and client_secret in the agent's config file"
    " or ask the administrator for a new secret, then restart the agent."
)

PAGE = Template("""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>rollsync 同步状态</title>
<style nonce="$nonce">
body{font-family:"Noto Sans CJK SC","Noto Sans CJK",sans-serif;margin:1.5em;color:#222}
#state{display:inline-block;padding:.3em .8em;font-size:1.4em;border:1px solid #888}
.disconnected{background-color:#ffff00}.syncing{background-color:#ffa500}
.ok{background-color:#90ee90}.failed{background-color:#ffc0cb}
#sync-now{font-size:1.2em;margin-left:1em}#auth{border:2px solid #c00;padding:.5em;max-width:50em}
table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.2em .6em;text-align:left}
</style></head>
<body data-tag="$tag">
<p><span id="state" class="$state">同步状态: $label</span><button id="sync-now" type="button">立即同步</button></p>
<p id="message">$message</p>
$auth
<table>
<tr><th>最近上传 Last upload</th><td id="last-upload">$upload</td></tr>
<tr><th>最近下载 Last download</th><td id="last-download">$download</td></tr>
<tr><th>待上传的本地修改 Local changes waiting</th><td id="pending">$pending</td></tr>
</table>
<h2>被拒绝的行 Rejected rows: <span id="rejected-count">$rejected_count</span></h2>
<table id="rejected"><tr><th>合同编号</th><th>产品ID</th><th>原因 Reason</th><th>说明 Message</th><th>时间 At</th></tr>
$rejected</table>
<h2>最近错误 Recent errors</h2>
<ul id="errors">$errors</ul>
<script nonce="$nonce">
const label = document.getElementById("state");
function show(cls, text) { label.className = cls; label.textContent = "同步状态: " + text; }
document.getElementById("sync-now").addEventListener("click", async () => {
  const r = await fetch("/sync-now", {method: "POST"});
  if (r.status === 202) show("syncing", "同步中"); else show("failed", "立即同步被拒绝 refused (" + r.status + ")");
});
setInterval(async () => {
  try {
    const r = await fetch("/status.json", {cache: "no-store"});
    if (r.headers.get("X-Snapshot-Tag") !== document.body.dataset.tag) location.reload();
  } catch (e) { show("disconnected", "同步程序未运行 agent not running"); }
}, 2000);
</script>
</body></html>
""")


WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # noqa: S104 (not a bind: what a client connects to instead)


def page_url(host: str, port: int, path: str = "/") -> str:
    """Where a browser or the CLI on this PC reaches a page bound to host:port."""
    return f"http://{'127.0.0.1' if host in WILDCARD_HOSTS else host}:{port}{path}"


def local_time(at: datetime | None) -> str:
    """A time as the clerk reads it: this PC's local time, to the second."""
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if at else "尚无 none yet"


def transfer(at: datetime | None, count: int) -> str:
    return f"{local_time(at)}, {count} 行 lines" if at else local_time(None)


def snapshot_tag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def render(snap: StatusSnapshot, tag: str, nonce: str) -> str:
    state = "failed" if snap.auth_failed else snap.state
    rejected = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in cells) + "</tr>\n"
        for cells in (
            (r.contract_no, r.product_id, r.reason, r.message, local_time(r.at)) for r in snap.rejected
        )
    )
    errors = "".join(f"<li>{escape(local_time(e.at))} {escape(e.message)}</li>\n" for e in snap.recent_errors)
    return PAGE.substitute(
        nonce=nonce,
        tag=escape(tag),
        state=state,
        label=escape(STATE_LABELS[state][0]),
        message=escape(snap.message),
        auth=f'<p id="auth">{escape(AUTH_HELP)}</p>' if snap.auth_failed else "",
        upload=escape(transfer(snap.last_upload_at, snap.last_upload_count)),
        download=escape(transfer(snap.last_download_at, snap.last_download_count)),
        pending=snap.pending_local_changes,
        rejected_count=len(snap.rejected),
        rejected=rejected,
        errors=errors or "<li>无 none</li>",
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        snapshot: Callable[[], StatusSnapshot],
        request_sync: Callable[[], None],
    ) -> None:
        super().__init__(address, _Handler)
        self.host = address[0]
        self.snapshot = snapshot
        self.request_sync = request_sync
        port = self.server_address[1]
        names = {address[0], "127.0.0.1", "localhost", "[::1]"}
        self.hosts = {f"{name}:{port}" for name in names}
        self.origins = {f"http://{host}" for host in self.hosts}


class _Handler(BaseHTTPRequestHandler):
    server_version = "rollsync-agent"

    def do_GET(self) -> None:
        self.path = self.path.split("?", 1)[0]
        if not self._host_ok():
            return
        if self.path == "/sync-now":  # a link or <img> elsewhere must not start a sync
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"POST only\n", "text/plain", {"Allow": "POST"})
            return
        if self.path not in ("/", "/status.json"):
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        try:
            snap = self._server.snapshot()
        except Exception:
            log.exception("status page: reading the agent's state failed")
            self._send(
                HTTPStatus.SERVICE_UNAVAILABLE, "状态暂不可用 state unavailable\n".encode(), "text/plain"
            )
            return
        body = snap.model_dump_json().encode()
        tag = snapshot_tag(body)
        if self.path == "/status.json":
            self._send(HTTPStatus.OK, body, "application/json", {"X-Snapshot-Tag": tag})
            return
        nonce = secrets.token_urlsafe(16)
        page = render(snap, tag, nonce).encode()
        csp = f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'"
        headers = {"Content-Security-Policy": csp + "; frame-ancestors 'none'; form-action 'none'"}
        self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", headers)

    def do_POST(self) -> None:
        self.path = self.path.split("?", 1)[0]
        if not self._host_ok():
            return
        if self.path != "/sync-now":
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
            return
        if not self._from_this_page():
            origin, site = self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site")
            log.warning("status page: refused /sync-now from origin %r (fetch site %r)", origin, site)
            self._send(HTTPStatus.FORBIDDEN, b'{"code":"cross_site_request"}', "application/json")
            return
        try:
            self._server.request_sync()
        except Exception:
            log.exception("status page: asking the run loop for a round failed")
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b'{"code":"sync_request_failed"}', "application/json")
            return
        self._send(HTTPStatus.ACCEPTED, b'{"accepted":true}', "application/json")

    def _from_this_page(self) -> bool:
        """Browsers name the sending page in Origin and Sec-Fetch-Site; the CLI sends neither."""
        origin = self.headers.get("Origin")
        site = self.headers.get("Sec-Fetch-Site")
        return (origin is None or origin in self._server.origins) and site in (None, "same-origin", "none")

    def _host_ok(self) -> bool:
        if self.headers.get("Host") in self._server.hosts:
            return True
        self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown Host\n", "text/plain")
        return False

    @property
    def _server(self) -> _Server:
        return cast("_Server", self.server)

    def _send(
        self, status: HTTPStatus, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in {
            "Content-Type": kind,
            "Content-Length": str(len(body)),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            **(headers or {}),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("status page: " + format, *args)


class StatusServer:
    """The running page; `stop()` closes the socket and ends the thread."""

    def __init__(self, httpd: _Server) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="status-page", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return page_url(self._httpd.host, self.port)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def serve(
    snapshot: Callable[[], StatusSnapshot],
    request_sync: Callable[[], None],
    host: str = "127.0.0.1",
    port: int = 0,
) -> StatusServer:
    """Serve the page on host:port (port 0: any free port, see `.port`) until `.stop()`."""
    try:
        httpd = _Server((host, port), snapshot, request_sync)
    except OSError as e:
        raise OSError(e.errno, f"status page cannot listen on {host}:{port}: {e.strerror}") from e
    log.info("status page on http://%s:%d/", host, httpd.server_address[1])
    return StatusServer(httpd)
