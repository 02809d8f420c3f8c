"""The agent uploads the factory's employee table when `database.employeeTable` is configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from rollsync_agent.cloud import CloudClient, CloudRefusedError
from rollsync_agent.config import load_config
from rollsync_agent.employees import upload_employees
from rollsync_agent.state import StateStore
from tests.support.agent_factory import write_config


class Cloud:
    def __init__(self, reject_number: str | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.keys: list[str] = []
        self.reject_number = reject_number

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/system-login":
            return httpx.Response(200, json={"access_token": "t"})
        assert request.url.path == "/sync/employees/batch"
        rows = json.loads(request.content)["employees"]
        self.batches.append(rows)
        self.keys.append(request.headers["Idempotency-Key"])
        results = [
            {"index": i, "status": "rejected", "message": "bad"}
            if r["number"] == self.reject_number
            else {"index": i, "status": "accepted"}
            for i, r in enumerate(rows)
        ]
        return httpx.Response(200, json={"results": results})


def _setup(tmp_path: Path) -> tuple[Any, Any]:
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text("CREATE TABLE yuangong (工号 TEXT, 姓名 TEXT, 车间 TEXT, 可报工序 TEXT, 在职 INTEGER)")
        )
        c.execute(
            text(
                "INSERT INTO yuangong VALUES ('001', '张三', '一车间', '镀铬，磨削', 1),"
                " ('002', '李四', '二车间', '热喷涂', 0), ('003', '王五', NULL, NULL, 1)"
            )
        )
    cfg = write_config(tmp_path / "SyncConfig.json", "http://cloud.test", "c", "s", url)
    doc = json.loads(cfg.read_text(encoding="utf-8"))
    doc["database"]["employeeTable"] = {"tableName": "yuangong"}
    cfg.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return load_config(cfg), engine


def _client(config: Any, cloud: Cloud) -> CloudClient:
    return CloudClient(config.cloud_api, transport=httpx.MockTransport(cloud), attempts=1)


def test_the_table_is_uploaded_in_batches_and_only_again_when_it_changed(tmp_path: Path) -> None:
    config, engine = _setup(tmp_path)
    table, state, cloud = config.database.employee_table, StateStore(config.state_path), Cloud()
    assert upload_employees(engine, table, state, _client(config, cloud), batch_size=2) == 3
    assert [len(b) for b in cloud.batches] == [2, 1]
    assert cloud.batches[0][0] == {
        "number": "001",
        "name": "张三",
        "workshop": "一车间",
        "processes": ["镀铬", "磨削"],
        "active": True,
    }
    assert cloud.batches[0][1]["active"] is False
    assert cloud.batches[1][0] == {
        "number": "003",
        "name": "王五",
        "workshop": "",
        "processes": [],
        "active": True,
    }
    assert upload_employees(engine, table, state, _client(config, cloud), batch_size=2) == 0
    assert len(cloud.batches) == 2  # unchanged list: nothing sent
    with engine.begin() as c:
        c.execute(text("UPDATE yuangong SET 在职 = 0 WHERE 工号 = '003'"))
    assert upload_employees(engine, table, state, _client(config, cloud), batch_size=2) == 3
    assert cloud.batches[-1][0]["active"] is False


def test_refused_rows_are_reported(tmp_path: Path) -> None:
    config, engine = _setup(tmp_path)
    state = StateStore(config.state_path)
    with pytest.raises(CloudRefusedError, match="employee rows refused: 1: bad"):
        upload_employees(engine, config.database.employee_table, state, _client(config, Cloud("002")), 10)


def test_without_the_option_nothing_is_configured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    config = load_config(write_config(tmp_path / "SyncConfig.json", "http://cloud.test", "c", "s", url))
    assert config.database.employee_table is None
