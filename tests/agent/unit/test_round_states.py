"""One round's outcome as the status page sees it, with a SQLite factory and a scripted cloud."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from rollsync_agent.cloud import CloudClient
from rollsync_agent.config import load_config
from rollsync_agent.factory_db import LineTable, reflect
from rollsync_agent.feed import parse_item
from rollsync_agent.loop import Agent
from rollsync_agent.state import snapshot_fields
from tests.support.agent_factory import create_hetong, write_config
from tests.support.generate import contract_rows

Handler = Callable[[httpx.Request], httpx.Response]


def _agent(tmp_path: Path, handler: Handler) -> Agent:
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    create_hetong(create_engine(url), contract_rows(3, seed=1))
    config = load_config(write_config(tmp_path / "SyncConfig.json", "http://cloud.test", "c", "s", url))
    return Agent(
        config, client=CloudClient(config.cloud_api, transport=httpx.MockTransport(handler), attempts=1)
    )


def _cloud(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/auth/system-login":
        return httpx.Response(200, json={"access_token": "t"})
    if path == "/sync/contracts/batch":
        rows = httpx.Response(200, content=request.content).json()["contracts"]
        return httpx.Response(
            200, json={"results": [{"index": i, "status": "accepted"} for i in range(len(rows))]}
        )
    if path == "/sync/pending-updates":
        return httpx.Response(200, json={"contracts": [], "next_cursor": "c1", "has_more": False})
    return httpx.Response(
        200, json={"checked": 1, "missing_in_cloud": [], "missing_locally": [], "different": []}
    )


def test_a_good_round_is_ok_and_counts_what_it_sent(tmp_path: Path) -> None:
    agent = _agent(tmp_path, _cloud)
    assert agent.cycle() is True
    snap = snapshot_fields(agent.config.state_path)
    assert (snap["state"], snap["last_upload_count"], snap["pending_local_changes"], snap["auth_failed"]) == (
        "ok",
        3,
        0,
        False,
    )
    assert agent.state.meta_json("feed_cursor") == "c1"
    assert agent.state.meta_json("last_reconcile")["checked"] == 1


def test_a_refused_secret_is_disconnected_with_auth_failed(tmp_path: Path) -> None:
    agent = _agent(tmp_path, lambda r: httpx.Response(401, json={"code": "invalid_client"}))
    assert agent.cycle() is False
    snap = snapshot_fields(agent.config.state_path)
    assert (snap["state"], snap["auth_failed"]) == ("disconnected", True)
    assert "clientSecret" in snap["recent_errors"][-1]["message"]


def test_an_unreachable_cloud_keeps_the_changes_pending(tmp_path: Path) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/system-login":
            return httpx.Response(200, json={"access_token": "t"})
        return httpx.Response(503, json={"code": "upstream_unavailable"})

    agent = _agent(tmp_path, down)
    assert agent.cycle() is False
    snap = snapshot_fields(agent.config.state_path)
    assert (snap["state"], snap["pending_local_changes"]) == ("disconnected", 3)
    assert "upstream_unavailable" in snap["message"]


def test_feed_items_map_processes_to_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    create_hetong(create_engine(url))
    lines = LineTable(reflect(create_engine(url), "hetong"))
    item = {
        "合同编号": "HT2023001",
        "产品ID": "P20230917001",
        "deleted": False,
        "processes": {
            "热喷涂": {"status": "已完成", "updated_by": "worker_zhang", "source": "report"},
            "外圆磨": {"status": "进行中"},  # no such column here
            "陶瓷研磨": {"status": "返工"},  # the factory calls it 陶瓷磨削
        },
    }
    update = parse_item(item, lines, {"陶瓷研磨": "陶瓷磨削"})
    assert update.key == ("HT2023001", "P20230917001")
    assert update.status == {"热喷涂": "已完成", "陶瓷磨削": "返工"}  # what is written back
    assert update.processes == {
        "热喷涂": "已完成",
        "外圆磨": "进行中",
        "陶瓷研磨": "返工",
    }  # what the digest uses


def test_a_process_the_line_names_otherwise_is_written_to_that_column(tmp_path: Path) -> None:
    """The cloud renamed 热喷涂 (or knows the line's column as an alias): the item says which column it was."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    create_hetong(create_engine(url))
    lines = LineTable(reflect(create_engine(url), "hetong"))
    item = {
        "合同编号": "HT2023001",
        "产品ID": "P20230917001",
        "processes": {
            "热喷涂(底层)": {"status": "已完成", "column": "热喷涂"},
            "陶瓷精磨": {"status": "进行中", "column": "陶瓷磨削"},
        },
    }
    update = parse_item(item, lines, {"陶瓷精磨": "基辊加工"})  # processColumns still wins
    assert update.status == {"热喷涂": "已完成", "基辊加工": "进行中"}
    assert update.processes == {"热喷涂(底层)": "已完成", "陶瓷精磨": "进行中"}


def test_an_expired_cursor_resyncs_from_the_start(tmp_path: Path) -> None:
    """transform answers 410 cursor_expired for a cursor behind its retention horizon: drop it, page from start."""
    sinces: list[str | None] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/sync/pending-updates":
            return _cloud(request)
        since = request.url.params.get("since")
        sinces.append(since)
        if since == "old":
            return httpx.Response(410, json={"code": "cursor_expired", "message": "re-sync from the start"})
        return httpx.Response(200, json={"contracts": [], "next_cursor": "new", "has_more": False})

    agent = _agent(tmp_path, cloud)
    agent.state.put(feed_cursor="old")
    assert agent.cycle() is True
    assert sinces == ["old", None]
    assert agent.state.meta_json("feed_cursor") == "new"
