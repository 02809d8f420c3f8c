"""`import-history`: chunked, with a progress bar, and a rerun after an interruption sends only the rest."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from rollsync_agent import history
from rollsync_agent.cloud import CloudClient, CloudUnavailableError
from rollsync_agent.config import load_config
from rollsync_agent.factory_db import iter_rows
from rollsync_agent.history import import_history, import_rows
from rollsync_agent.state import StateStore
from tests.support.agent_factory import create_hetong, write_config
from tests.support.generate import contract_rows


class Cloud:
    """Accepts every row; goes down after `fail_after` batches."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.batches: list[int] = []
        self.fail_after = fail_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/system-login":
            return httpx.Response(200, json={"access_token": "t"})
        if self.fail_after is not None and len(self.batches) >= self.fail_after:
            return httpx.Response(503, json={"code": "upstream_unavailable"})
        rows = json.loads(request.content)["contracts"]
        self.batches.append(len(rows))
        return httpx.Response(
            200, json={"results": [{"index": i, "status": "accepted"} for i in range(len(rows))]}
        )


def _config(tmp_path: Path, n: int) -> Path:
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    create_hetong(create_engine(url), contract_rows(n, seed=2))
    return write_config(tmp_path / "SyncConfig.json", "http://cloud.test", "c", "s", url)


def _client(cfg: Path, cloud: Cloud) -> CloudClient:
    return CloudClient(load_config(cfg).cloud_api, transport=httpx.MockTransport(cloud), attempts=1)


def test_an_interrupted_import_resumes_where_it_stopped(tmp_path: Path) -> None:
    cfg = _config(tmp_path, 1200)
    down = Cloud(fail_after=1)
    with pytest.raises(CloudUnavailableError):
        import_history(load_config(cfg), chunk=500, client=_client(cfg, down))
    assert down.batches == [500]
    up = Cloud()
    result = import_history(load_config(cfg), chunk=500, client=_client(cfg, up))
    assert up.batches == [500, 200]  # the first 500 are not sent again
    assert (result.total, result.accepted, result.skipped) == (1200, 700, 500)


def test_the_progress_bar_counts_lines(tmp_path: Path) -> None:
    cfg = _config(tmp_path, 30)
    out = io.StringIO()
    state = StateStore(tmp_path / "s")
    rows = contract_rows(30, seed=2)
    import_rows(rows, state, _client(cfg, Cloud()), 10, out, len(rows))
    frames = out.getvalue().split("\r")
    assert [f.split("] ")[1].strip() for f in frames if f] == ["10/30 lines", "20/30 lines", "30/30 lines"]


def test_an_export_file_imports_like_the_table(tmp_path: Path) -> None:
    cfg = _config(tmp_path, 1)
    export = tmp_path / "contracts_export.json"
    export.write_text(json.dumps(contract_rows(7, seed=4), ensure_ascii=False), encoding="utf-8")
    cloud = Cloud()
    result = import_history(load_config(cfg), export, chunk=5, client=_client(cfg, cloud))
    assert (result.total, result.accepted, cloud.batches) == (7, 7, [5, 2])


class HoldFirstPost(Cloud):
    """Keeps the first batch in flight until `released` is set (5 s at most), noting how many rows were read."""

    def __init__(self, released: threading.Event, read: list[int]) -> None:
        super().__init__()
        self.released, self.read = released, read
        self.read_during_first_post: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/auth/system-login" and not self.batches:
            self.released.wait(5)
            self.read_during_first_post = self.read[0]
        return super().__call__(request)


def test_the_next_chunk_is_read_while_a_batch_is_in_flight_and_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _config(tmp_path, 100)
    read, second_chunk_read = [0], threading.Event()

    def counting(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for row in iter_rows(*args, **kwargs):
            read[0] += 1
            if read[0] == 20:
                second_chunk_read.set()
            yield row

    monkeypatch.setattr(history, "iter_rows", counting)
    cloud = HoldFirstPost(second_chunk_read, read)
    result = import_history(load_config(cfg), chunk=10, client=_client(cfg, cloud))
    assert cloud.read_during_first_post == 20  # chunk 2 read during POST 1; the table is not held in memory
    assert (result.total, result.accepted, cloud.batches) == (100, 100, [10] * 10)
