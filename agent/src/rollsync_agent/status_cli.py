"""`status` and `sync-now` from a terminal: what the status page shows, as lines a clerk can read.

main_status     0 = agent running, not failed; 1 = running and 同步失败; 2 = not running (last saved state shown)
main_sync_now   0 = round requested; 1 = the agent refused; 2 = not running
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from rollsync_agent.state import load_snapshot
from rollsync_agent.status_model import StatusSnapshot
from rollsync_agent.status_page import AUTH_HELP, STATE_LABELS, local_time, page_url, transfer

TIMEOUT_S = 5
LoadLast = Callable[[Path], StatusSnapshot | None]


class _PageConfig(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...


class StatusConfig(Protocol):
    @property
    def status_page(self) -> _PageConfig: ...
    @property
    def state_path(self) -> Path: ...


def _url(config: StatusConfig, path: str = "/") -> str:
    return page_url(config.status_page.host, config.status_page.port, path)


def describe(snap: StatusSnapshot) -> list[str]:
    state = "failed" if snap.auth_failed else snap.state
    chinese, english = STATE_LABELS[state]
    lines = [f"同步状态 Sync status: {chinese} ({english})" + (f" — {snap.message}" if snap.message else "")]
    if snap.auth_failed:
        lines.append(AUTH_HELP)
    lines += [
        f"最近上传 Last upload: {transfer(snap.last_upload_at, snap.last_upload_count)}",
        f"最近下载 Last download: {transfer(snap.last_download_at, snap.last_download_count)}",
        f"待上传的本地修改 Local changes waiting: {snap.pending_local_changes}",
        f"被拒绝的行 Rejected rows: {len(snap.rejected)}",
    ]
    lines += [
        f"  合同编号 {r.contract_no} / 产品ID {r.product_id}: {r.reason} — {r.message} ({local_time(r.at)})"
        for r in snap.rejected
    ]
    lines.append(f"最近错误 Recent errors: {len(snap.recent_errors)}")
    lines += [f"  {local_time(e.at)} {e.message}" for e in snap.recent_errors]
    return lines


def _load_saved(state_path: Path) -> StatusSnapshot | None:
    """The run loop's last saved snapshot; None when the agent never ran (and no state file is created)."""
    if not state_path.exists():
        return None
    snap: StatusSnapshot = load_snapshot(state_path)
    return snap


def _not_running(config: StatusConfig, error: Exception) -> str:
    reason = getattr(error, "reason", error)
    return f"同步程序未运行 (the agent is not running or not answering on {_url(config)}: {reason})"


def main_status(config: StatusConfig, load_saved: LoadLast = _load_saved) -> int:
    out = sys.stdout.write
    try:
        with urllib.request.urlopen(_url(config, "/status.json"), timeout=TIMEOUT_S) as r:  # noqa: S310
            snap = StatusSnapshot.model_validate_json(r.read())
    except urllib.error.HTTPError as e:
        out(f"同步程序出错 (the agent answered HTTP {e.code} on {_url(config, '/status.json')})\n")
        return 1
    except OSError as e:
        out(_not_running(config, e) + "\n")
        saved = load_saved(config.state_path)
        if saved is None:
            out("没有保存的状态 (no saved state yet: the agent has never completed a round)\n")
        else:
            out("上次保存的状态 Last saved state:\n" + "".join(f"  {line}\n" for line in describe(saved)))
        return 2
    out("".join(f"{line}\n" for line in describe(snap)))
    return 1 if snap.auth_failed or snap.state == "failed" else 0


def main_sync_now(config: StatusConfig) -> int:
    out = sys.stdout.write
    request = urllib.request.Request(_url(config, "/sync-now"), method="POST")  # noqa: S310 (http only)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as r:  # noqa: S310
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError as e:
        out(_not_running(config, e) + ": 无法立即同步 (cannot sync now; start the agent first)\n")
        return 2
    if status == 202:
        out("已请求立即同步 (sync requested): 稍后用 status 查看结果 (check the result with `status`)\n")
        return 0
    out(f"同步程序拒绝了请求 (the agent refused the request: HTTP {status})\n")
    return 1
