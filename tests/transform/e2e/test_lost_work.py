"""Issue 8, defects 1 and 2: a worker's report survives an import running at the same time.

The import (lines consumer, TRANSFORM_ROLE=lines) and the reports (progress consumer, its own process,
TRANSFORM_ROLE=progress) race on the same lines. The expected final state is a fold computed here, from
what the test sent, without any of transform's code.
"""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.feed import cursor_now, drain
from tests.support.generate import PRODUCTS, contract_rows
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e

LINES, REPORTERS = 900, 4
ROUTES = {name: steps for name, _, steps in PRODUCTS}
REPORTED = ("已完成", "进行中", "未开始")
Line = tuple[str, str]


def fold(rows: list[dict[str, Any]], reports: dict[tuple[str, str, str], str]) -> dict[Line, dict[str, str]]:
    """Reference: a line's status per process is the last report sent for it, else the uploaded value.

    The second upload repeats the first one's process values, so it is no new word and never beats a report.
    """
    out: dict[Line, dict[str, str]] = {}
    for row in rows:
        line = (row["合同编号"], row["产品ID"])
        out[line] = {p: reports.get((*line, p), row[p]) for p in ROUTES[row["产品名称"]]}
    return out


def current_process(name: str, statuses: dict[str, str]) -> str | None:
    """The first step of the roll's route (in the generator's order) not yet done."""
    return next((p for p in ROUTES[name] if statuses[p] != "已完成"), None)


async def _upload(
    http: httpx.AsyncClient, url: str, auth: dict[str, str], rows: list[dict[str, Any]]
) -> None:
    for i in range(0, len(rows), 300):
        r = await http.post(
            f"{url}/sync/contracts/batch",
            json={"contracts": rows[i : i + 300], "overwrite": True},
            headers=auth,
        )
        assert r.status_code == 200, r.text


async def _versions(admin: asyncpg.Connection, prefix: str) -> list[int]:
    rows = await admin.fetch(
        "SELECT version FROM transform.hetong_original WHERE contract_no LIKE $1 ORDER BY 1", prefix + "%"
    )
    return [r["version"] for r in rows]


async def _reporter(
    http: httpx.AsyncClient,
    url: str,
    auth: dict[str, str],
    rows: list[dict[str, Any]],
    rng: random.Random,
    keep_going: asyncio.Event,
) -> tuple[dict[tuple[str, str, str], str], dict[tuple[str, str, str], int]]:
    """One worker: reports one after the other, so the last one sent is the last one ingest accepted."""
    sent: dict[tuple[str, str, str], str] = {}
    versions: dict[tuple[str, str, str], int] = {}
    while keep_going.is_set():
        row = rng.choice(rows)
        process, status = rng.choice(ROUTES[row["产品名称"]]), rng.choice(REPORTED)
        r = await http.put(
            f"{url}/sync/contracts/{row['合同编号']}/progress",
            json={process: status, "产品ID": row["产品ID"], "updated_by": "worker_race"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        key = (row["合同编号"], row["产品ID"], process)
        sent[key], versions[key] = status, r.json()["updates"][0]["version"]
    return sent, versions


async def test_reports_racing_an_import_all_survive_in_processes_and_products(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    auth = bearer(await login(http, services["ingest"].url, *await create_client(admin)))
    ingest, prefix = services["ingest"].url, f"R{uuid.uuid4().hex[:6]}-"
    rows = contract_rows(LINES, seed=11, prefix=prefix)
    await _upload(http, ingest, auth, rows)
    await eventually(lambda: _all_at(admin, prefix, 1), timeout_s=120)

    # Second import: same process values, another remark. It rewrites every line while reports arrive.
    keep_going = asyncio.Event()
    keep_going.set()
    shares = [rows[i::REPORTERS] for i in range(REPORTERS)]
    workers = [
        asyncio.create_task(_reporter(http, ingest, auth, share, random.Random(n), keep_going))
        for n, share in enumerate(shares)
    ]
    await asyncio.sleep(0.5)  # reports are flowing before the import starts, and keep flowing after
    await _upload(http, ingest, auth, [{**row, "备注": "第二次导入"} for row in rows])
    await eventually(lambda: _all_at(admin, prefix, 2), timeout_s=120)
    keep_going.clear()
    sent: dict[tuple[str, str, str], str] = {}
    versions: dict[tuple[str, str, str], int] = {}
    for s, v in await asyncio.gather(*workers):
        sent.update(s)
        versions.update(v)
    assert len(sent) > 50, "too few reports raced the import to prove anything"
    await eventually(lambda: _reports_stored(admin, prefix, versions), timeout_s=120)

    expected = fold(rows, sent)
    held = await _reported(admin, prefix)
    lost = {k: (s, held.get(k)) for k, s in sent.items() if held.get(k) != s}
    assert not lost, (
        f"{len(lost)} of {len(sent)} reports lost from product_processes, e.g. {list(lost.items())[:3]}"
    )
    products = await _products(admin, prefix)
    names = {(r["合同编号"], r["产品ID"]): r["产品名称"] for r in rows}
    wrong = {
        line: (current_process(names[line], statuses), products[line])
        for line, statuses in expected.items()
        if products[line] != current_process(names[line], statuses)
    }
    assert not wrong, f"{len(wrong)} lines with a stale current_process, e.g. {list(wrong.items())[:3]}"
    assert await _lost_work(http, services["transform"].url, auth, prefix) == []


async def _all_at(admin: asyncpg.Connection, prefix: str, version: int) -> bool:
    versions = await _versions(admin, prefix)
    return len(versions) == LINES and all(v == version for v in versions)


async def _reports_stored(
    admin: asyncpg.Connection, prefix: str, versions: dict[tuple[str, str, str], int]
) -> bool:
    rows = await admin.fetch(
        "SELECT contract_no, product_id, process, version FROM transform.progress_reports WHERE contract_no LIKE $1",
        prefix + "%",
    )
    return {(r[0], r[1], r[2]): r[3] for r in rows} == versions


async def _reported(admin: asyncpg.Connection, prefix: str) -> dict[tuple[str, str, str], str]:
    rows = await admin.fetch(
        "SELECT contract_no, product_id, process, reported_status FROM transform.product_processes"
        " WHERE contract_no LIKE $1 AND reported_status IS NOT NULL",
        prefix + "%",
    )
    return {(r[0], r[1], r[2]): r[3] for r in rows}


async def _products(admin: asyncpg.Connection, prefix: str) -> dict[Line, str | None]:
    rows = await admin.fetch(
        "SELECT contract_no, product_id, current_process FROM transform.products WHERE contract_no LIKE $1",
        prefix + "%",
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def test_a_report_before_its_line_is_applied_reaches_the_feed_once(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    """The lines consumer is frozen (SIGSTOP) so the report is stored while its line does not exist yet."""
    auth = bearer(await login(http, services["ingest"].url, *await create_client(admin)))
    ingest, feed_url = (
        services["ingest"].url,
        services["transform-progress"].url,
    )  # every role serves the feed
    c, p = f"B{uuid.uuid4().hex[:6]}-1", "P1"
    row = {
        "合同编号": c,
        "产品ID": p,
        "产品名称": "陶瓷网纹辊",
        **dict.fromkeys(ROUTES["陶瓷网纹辊"], "未开始"),
    }
    cursor = await cursor_now(http, feed_url, auth)
    lines_consumer = services["transform"].proc
    assert lines_consumer is not None
    lines_consumer.send_signal(signal.SIGSTOP)
    try:
        await _upload(http, ingest, auth, [row])
        r = await http.put(
            f"{ingest}/sync/contracts/{c}/progress",
            json={"基辊加工": "已完成", "产品ID": p, "updated_by": "worker_early"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        await eventually(lambda: _stored_report(admin, c), timeout_s=60)
        assert await _versions(admin, c) == [], "the line must not be applied before the report"
    finally:
        lines_consumer.send_signal(signal.SIGCONT)
    await eventually(lambda: _versions(admin, c), timeout_s=120)

    async def mine() -> list[dict[str, Any]]:
        items, _ = await drain(http, feed_url, auth, cursor)
        return [i for i in items if (i["合同编号"], i["产品ID"]) == (c, p)]

    items = await eventually(mine, timeout_s=60)
    # A newer upload of the line (remark changed) must not announce the same report again.
    await _upload(http, ingest, auth, [{**row, "备注": "改"}])
    await eventually(lambda: _all_versions(admin, c, 2), timeout_s=60)
    items = await mine()
    assert len(items) == 1, items
    assert items[0]["updated_by"] == "worker_early"
    assert items[0]["processes"]["基辊加工"]["status"] == "已完成"
    assert items[0]["processes"]["基辊加工"]["source"] == "report"
    assert items[0]["processes"]["喷砂"]["source"] == "upload"
    assert await _lost_work(http, feed_url, auth, c) == []


async def _stored_report(admin: asyncpg.Connection, contract_no: str) -> bool:
    n = await admin.fetchval(
        "SELECT count(*) FROM transform.progress_reports WHERE contract_no = $1", contract_no
    )
    return bool(n)


async def _all_versions(admin: asyncpg.Connection, contract_no: str, version: int) -> bool:
    return await _versions(admin, contract_no) == [version]


async def _lost_work(http: httpx.AsyncClient, url: str, auth: dict[str, str], prefix: str) -> list[Any]:
    """What the consistency report's lost-work branches say about these contracts (they fire on the leftovers
    of the unfixed code: 22 reports not applied after the race above, 1 report missing from the feed)."""
    report = (await http.get(f"{url}/reports/consistency", headers=auth)).json()
    branches = ("reports_not_applied", "reports_missing_from_feed", "lines_not_materialised")
    return [x for b in branches for x in report[b] if x["合同编号"].startswith(prefix)]
