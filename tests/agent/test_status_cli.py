"""`status` and `sync-now` against a real status page on 127.0.0.1, and with no agent running."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rollsync_agent import cli
from rollsync_agent.state import StateStore
from rollsync_agent.status_cli import main_status, main_sync_now
from rollsync_agent.status_model import StatusSnapshot
from rollsync_agent.status_page import StatusServer, serve
from tests.agent.status_fakes import HOSTILE_REASON, Controlled, busy_snapshot


@dataclass(frozen=True)
class PageConfig:
    host: str
    port: int


@dataclass(frozen=True)
class Config:
    status_page: PageConfig
    state_path: Path


@pytest.fixture
def ctl() -> Controlled:
    return Controlled(busy_snapshot())


@pytest.fixture
def running(ctl: Controlled) -> Iterator[StatusServer]:
    srv = serve(ctl.snapshot, ctl.request_sync, "127.0.0.1", 0)
    yield srv
    srv.stop()


def config(port: int, tmp_path: Path, host: str = "127.0.0.1") -> Config:
    return Config(PageConfig(host, port), tmp_path / "state.json")


@pytest.fixture
def dead_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_status_of_a_running_agent(
    running: StatusServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_status(config(running.port, tmp_path)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "同步状态 Sync status: 同步成功 (synced) — 上次同步 OK"
    assert lines[1].startswith("最近上传 Last upload: ") and lines[1].endswith(", 120 行 lines")
    assert lines[2].endswith(", 7 行 lines")
    assert lines[3] == "待上传的本地修改 Local changes waiting: 3"
    assert lines[4] == "被拒绝的行 Rejected rows: 2"
    assert HOSTILE_REASON in lines[5]  # a terminal shows it as it is
    assert "合同编号 HT-2026-002 / 产品ID P-2: invalid_date — 交货日期 2026-13-01 不是日期" in lines[6]
    assert lines[7] == "最近错误 Recent errors: 1"


def test_status_via_a_wildcard_bind_asks_loopback(
    ctl: Controlled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = serve(ctl.snapshot, ctl.request_sync, "0.0.0.0", 0)  # noqa: S104 (what the test is about)
    try:
        assert main_status(config(srv.port, tmp_path, host="0.0.0.0")) == 0  # noqa: S104
    finally:
        srv.stop()
    assert "同步成功" in capsys.readouterr().out


def test_refused_secret_exits_1_and_says_what_to_do(
    running: StatusServer, ctl: Controlled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctl.snap = busy_snapshot("disconnected", auth_failed=True)
    assert main_status(config(running.port, tmp_path)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("同步状态 Sync status: 同步失败 (sync failed)")
    assert "client_secret" in out[1]


def test_agent_not_running_shows_the_last_saved_state(
    dead_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[Path] = []

    def saved(path: Path) -> StatusSnapshot | None:
        asked.append(path)
        return busy_snapshot("failed", message="上次同步失败")

    assert main_status(config(dead_port, tmp_path), saved) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        f"同步程序未运行 (the agent is not running or not answering on http://127.0.0.1:{dead_port}/"
    )
    assert out[1] == "上次保存的状态 Last saved state:"
    assert out[2] == "  同步状态 Sync status: 同步失败 (sync failed) — 上次同步失败"
    assert asked == [tmp_path / "state.json"]


def test_agent_never_ran(dead_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_status(config(dead_port, tmp_path), lambda _: None) == 2
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[1].startswith("没有保存的状态 (no saved state yet")


def test_sync_now_asks_the_running_agent(
    running: StatusServer, ctl: Controlled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_sync_now(config(running.port, tmp_path)) == 0
    assert ctl.sync_requests == 1
    assert capsys.readouterr().out.startswith("已请求立即同步 (sync requested)")


def test_sync_now_without_an_agent(
    dead_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_sync_now(config(dead_port, tmp_path)) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "同步程序未运行" in out and "cannot sync now; start the agent first" in out


def test_not_running_reads_the_agents_real_state_file(
    dead_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = StateStore(tmp_path / "state.json")
    try:
        store.put(
            state="failed", message="factory database: timeout", last_upload_count=12, auth_failed=False
        )
        store.put(last_upload_at="2026-12-04T08:30:00+00:00", pending_local_changes=5)
        store.mark_rejected([(("HT-9", "P-9"), "h", "invalid_date", "交货日期不是日期")])
        store.error("连接云端超时")
    finally:
        store.close()
    assert main_status(config(dead_port, tmp_path)) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[2] == "  同步状态 Sync status: 同步失败 (sync failed) — factory database: timeout"
    assert out[3].endswith(", 12 行 lines")
    assert "  待上传的本地修改 Local changes waiting: 5" in out
    assert any("合同编号 HT-9 / 产品ID P-9: invalid_date — 交货日期不是日期" in line for line in out)
    assert any(line.endswith(" 连接云端超时") for line in out)


def test_not_running_and_never_ran_creates_no_state_file(
    dead_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main_status(config(dead_port, tmp_path)) == 2
    assert "没有保存的状态" in capsys.readouterr().out
    assert not (tmp_path / "state.json").exists()


def test_the_rollsync_agent_commands_reach_the_page(
    running: StatusServer, ctl: Controlled, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rollsync-agent status` / `sync-now` with a SyncConfig.json naming the page's port."""
    path = tmp_path / "SyncConfig.json"
    doc = {
        "cloudApi": {"baseUrl": "http://127.0.0.1:1", "clientId": "c", "clientSecret": "s"},
        "database": {"connectionString": f"sqlite:///{tmp_path / 'factory.db'}"},
        "statusPage": {"port": running.port},
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert cli.main(["status", "--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith("同步状态 Sync status: 同步成功 (synced)")
    assert cli.main(["sync-now", "--config", str(path)]) == 0
    assert ctl.sync_requests == 1
