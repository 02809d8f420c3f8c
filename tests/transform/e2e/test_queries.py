"""The mini-program's contract queries, the feed's cursor paging and the consistency report."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def loaded(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    token = await login(http, services["ingest"].url, *await create_client(admin))
    c = f"Q{uuid.uuid4().hex[:8]}"
    party = f"汕头{c}彩印有限公司"
    rows = [
        {
            "合同编号": c,
            "产品ID": f"P{i}",
            "甲方": party,
            "产品名称": "陶瓷网纹辊",
            "合同状态": "生产中",
            "签订日期": "2024年3月18日",
            "合同金额": "¥1,234.50",
            "数量": "４支",
            "基辊加工": "已完成",
            "热喷涂": "进行中",
            "新工序X": "完工",
        }
        for i in range(3)
    ]
    r = await http.post(
        f"{services['ingest'].url}/sync/contracts/batch", json={"contracts": rows}, headers=bearer(token)
    )
    assert r.json()["accepted"] == 3
    transform = services["transform"].url

    async def arrived() -> bool:
        got = await http.get(f"{transform}/contracts/{c}", headers=bearer(token))
        return got.status_code == 200 and len(got.json()["lines"]) == 3

    await eventually(arrived)
    return {
        "auth": bearer(token),
        "contract": c,
        "party": party,
        "transform": transform,
        "ingest": services["ingest"].url,
        "http": http,
    }


async def test_detail_has_standardized_fields_processes_and_unknown_columns(loaded: dict[str, Any]) -> None:
    r = await loaded["http"].get(
        f"{loaded['transform']}/contracts/{loaded['contract']}", headers=loaded["auth"]
    )
    line = r.json()["lines"][0]
    assert line["fields"]["signed_date"] == "2024-03-18"
    assert line["fields"]["amount"] == "1234.50"
    assert line["fields"]["quantity"] == 4
    assert line["product_type"] == "anilox"
    processes = {p["process"]: p["uploaded_status"] for p in line["processes"]}
    assert processes["热喷涂"] == "进行中"
    assert "新工序X" not in processes
    assert line["extra_columns"] == {"新工序X": "完工"}  # a column no route knows is kept, not dropped
    assert line["current_process"] == "热喷涂"


async def test_list_filters_by_party_and_text(loaded: dict[str, Any]) -> None:
    http, url = loaded["http"], f"{loaded['transform']}/contracts"
    by_party = await http.get(url, params={"甲方": loaded["party"]}, headers=loaded["auth"])
    assert [c["contract_no"] for c in by_party.json()["contracts"]] == [loaded["contract"]]
    assert by_party.json()["contracts"][0]["lines"] == 3
    by_text = await http.get(
        url, params={"q": loaded["contract"][1:], "status": "生产中"}, headers=loaded["auth"]
    )
    assert by_text.json()["total"] == 1
    nothing = await http.get(url, params={"q": "%_no-such_%"}, headers=loaded["auth"])
    assert nothing.json()["total"] == 0
    bad = await http.get(url, params={"signed_from": "yesterday"}, headers=loaded["auth"])
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")


async def test_unknown_contract_detail_is_404(loaded: dict[str, Any]) -> None:
    r = await loaded["http"].get(
        f"{loaded['transform']}/contracts/NOPE-{uuid.uuid4().hex}", headers=loaded["auth"]
    )
    assert (r.status_code, r.json()["code"]) == (404, "contract_not_found")


async def test_pending_updates_page_by_cursor_without_gaps_or_repeats(loaded: dict[str, Any]) -> None:
    http, c = loaded["http"], loaded["contract"]
    start = (
        await http.get(
            f"{loaded['transform']}/sync/pending-updates",
            params={"since": "2100-01-01T00:00:00Z"},
            headers=loaded["auth"],
        )
    ).json()["next_cursor"]
    for process in ("热喷涂", "陶瓷磨削"):
        r = await http.put(
            f"{loaded['ingest']}/sync/contracts/{c}/progress",
            json={process: "已完成", "updated_by": "worker_li"},
            headers=loaded["auth"],
        )
        assert r.status_code == 200, r.text
    seen: list[tuple[str, str, str]] = []

    async def drained() -> bool:
        nonlocal start
        page = (
            await http.get(
                f"{loaded['transform']}/sync/pending-updates",
                params={"since": start, "limit": 2},
                headers=loaded["auth"],
            )
        ).json()
        seen.extend((e["合同编号"], e["产品ID"], e["change_id"]) for e in page["contracts"])
        start = page["next_cursor"]
        return len([s for s in seen if s[0] == c]) >= 6 and not page["has_more"]

    await eventually(drained)
    mine = [s for s in seen if s[0] == c]
    assert len(mine) == len(set(mine)) == 6  # 3 lines × 2 reports, each once
    bad = await http.get(
        f"{loaded['transform']}/sync/pending-updates", params={"since": "garbage"}, headers=loaded["auth"]
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_since")


async def test_consistency_report_counts_states(loaded: dict[str, Any]) -> None:
    r = await loaded["http"].get(f"{loaded['transform']}/reports/consistency", headers=loaded["auth"])
    body = r.json()
    assert body["lines_by_contract_status"]["生产中"] >= 3
    assert body["counts"]["contracts"] >= 3
    assert all(x["合同编号"] != loaded["contract"] for x in body["raw_missing_from_standard"])


async def test_a_new_process_is_a_row_of_data_not_a_code_change(
    loaded: dict[str, Any], admin: asyncpg.Connection
) -> None:
    await admin.execute("INSERT INTO transform.process_routes VALUES ('anilox', 125, '新工序Y', 2)")
    try:
        await asyncio.sleep(1.5)  # the service reloads its configuration every second in tests
        c = f"NP{uuid.uuid4().hex[:8]}"
        row = {
            "合同编号": c,
            "产品ID": "P1",
            "产品名称": "陶瓷网纹辊",
            "基辊加工": "已完成",
            "新工序Y": "进行中",
        }
        r = await loaded["http"].post(
            f"{loaded['ingest']}/sync/contracts/batch", json={"contracts": [row]}, headers=loaded["auth"]
        )
        assert r.json()["accepted"] == 1

        async def line() -> Any:
            got = await loaded["http"].get(f"{loaded['transform']}/contracts/{c}", headers=loaded["auth"])
            return got.json()["lines"][0] if got.status_code == 200 else None

        detail = await eventually(line)
        assert {p["process"]: p["uploaded_status"] for p in detail["processes"]}["新工序Y"] == "进行中"
        assert detail["current_process"] == "新工序Y"
    finally:
        await admin.execute("DELETE FROM transform.process_routes WHERE process = '新工序Y'")


def test_consistency_report_from_the_command_line() -> None:
    import json
    import os
    import subprocess

    from tests.support.stack import PYTHON, ROOT, service_env

    env = {**os.environ, **service_env("transform")}
    done = subprocess.run(
        [PYTHON, "-m", "transform.entrypoints.cli", "consistency", "--sample", "5"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(done.stdout)
    assert set(report) == {
        "reports_not_applied",
        "reports_missing_from_feed",
        "lines_not_materialised",
        "lines_dead_lettered",
        "raw_missing_from_standard",
        "products_without_progress",
        "counts",
        "lines_by_contract_status",
        "local_vs_cloud",
    }
    assert isinstance(report["local_vs_cloud"], dict)
    assert report["counts"]["raw_lines"] >= report["counts"]["contracts"] > 0
