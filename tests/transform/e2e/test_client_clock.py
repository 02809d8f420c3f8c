"""Issue 8, defect 3: a phone's clock can neither lock a process nor beat the local system's uploads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e

ROW = {"产品ID": "P1", "产品名称": "陶瓷网纹辊", "基辊加工": "已完成", "喷砂": "已完成", "热喷涂": "未开始"}


async def _detail(http: httpx.AsyncClient, url: str, auth: dict[str, str], c: str) -> dict[str, Any] | None:
    r = await http.get(f"{url}/contracts/{c}", headers=auth)
    return r.json()["lines"][0] if r.status_code == 200 else None


async def test_a_report_from_a_clock_far_ahead_is_refused_with_a_stable_code(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    auth = bearer(await login(http, services["ingest"].url, *await create_client(admin)))
    c = f"K{uuid.uuid4().hex[:8]}"
    r = await http.post(
        f"{services['ingest'].url}/sync/contracts/batch",
        json={"contracts": [{**ROW, "合同编号": c}]},
        headers=auth,
    )
    assert r.json()["accepted"] == 1
    ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    r = await http.put(
        f"{services['ingest'].url}/sync/contracts/{c}/progress",
        json={"热喷涂": "已完成", "updated_by": "w", "update_time": ahead},
        headers=auth,
    )
    assert (r.status_code, r.json()["code"]) == (422, "update_time_in_future")
    # It did not lock the process: a report with the right time is accepted right after.
    r = await http.put(
        f"{services['ingest'].url}/sync/contracts/{c}/progress",
        json={"热喷涂": "进行中", "updated_by": "w"},
        headers=auth,
    )
    assert r.status_code == 200, r.text


async def test_a_later_upload_beats_a_report_whose_clock_runs_ahead(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    """Within the allowed skew (4 min ahead) the report is accepted, but it is compared by when ingest
    received it, like the upload: the upload that came after it wins."""
    ingest, transform = services["ingest"].url, services["transform"].url
    auth = bearer(await login(http, ingest, *await create_client(admin)))
    c = f"K{uuid.uuid4().hex[:8]}"
    row = {**ROW, "合同编号": c}
    r = await http.post(f"{ingest}/sync/contracts/batch", json={"contracts": [row]}, headers=auth)
    assert r.json()["accepted"] == 1
    await eventually(lambda: _detail(http, transform, auth, c))
    ahead = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    r = await http.put(
        f"{ingest}/sync/contracts/{c}/progress",
        json={"热喷涂": "已完成", "updated_by": "w", "update_time": ahead, "产品ID": "P1"},
        headers=auth,
    )
    assert r.status_code == 200, r.text

    async def reported() -> bool:
        line = await _detail(http, transform, auth, c)
        return line is not None and line["current_process"] != "热喷涂"

    await eventually(reported)
    r = await http.post(
        f"{ingest}/sync/contracts/batch",
        json={"contracts": [{**row, "热喷涂": "进行中"}], "overwrite": True},
        headers=auth,
    )
    assert r.json()["accepted"] == 1

    async def uploaded() -> dict[str, Any] | None:
        line = await _detail(http, transform, auth, c)
        return line if line and line["version"] == 2 else None

    line = await eventually(uploaded)
    assert line["current_process"] == "热喷涂"
