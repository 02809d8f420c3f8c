"""POST /sync/reconciliation and the consistency report's local_vs_cloud, on the real stack (contract point 5).

The local digest is computed here independently (hashlib + json over the rows this test uploaded, as the
factory's table would hold them after applying the feed), never with the service's own code.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


def _line_hash(row: dict[str, Any]) -> str:
    kept = {k: v for k, v in row.items() if v is not None and v != ""}
    return hashlib.sha256(
        json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def _entry(contract: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    hashes = sorted(_line_hash(r) for r in rows)
    return {
        "合同编号": contract,
        "lines": len(rows),
        "hash": hashlib.sha256("\n".join(hashes).encode()).hexdigest(),
    }


def _row(contract: str, product: str, **extra: object) -> dict[str, Any]:
    return {
        "合同编号": contract,
        "产品ID": product,
        "甲方": "汕头彩印",
        "产品名称": "陶瓷网纹辊",
        "备注": "",
        "交期": None,
        "数量": 4,
        "基辊加工": "已完成",
        "热喷涂": "进行中",
        **extra,
    }


@pytest.fixture
async def stack(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    client_id, secret = await create_client(admin)
    token = await login(http, services["ingest"].url, client_id, secret)
    return {
        "ingest": services["ingest"].url,
        "transform": services["transform"].url,
        "auth": bearer(token),
        "client_id": client_id,
        "http": http,
        "admin": admin,
    }


async def _count(admin: asyncpg.Connection, table: str, prefix: str, want: int, where: str = "true") -> bool:
    sql = f"SELECT count(*) FROM transform.{table} WHERE contract_no LIKE $1 AND {where}"
    return bool(await admin.fetchval(sql, prefix + "%") == want)


async def test_each_kind_of_difference_fires_and_the_report_keeps_it(stack: dict[str, Any]) -> None:
    http, auth, p = stack["http"], stack["auth"], f"RC{uuid.uuid4().hex[:6]}-"
    names = ("SAME", "CHG", "CLOUD", "LOCAL", "TRIM", "GONE")
    same, changed, cloud_only, local_only, trimmed, gone = (f"{p}{n}" for n in names)
    uploaded = {
        same: [_row(same, "P1"), _row(same, "P2", 备注="加急")],
        changed: [_row(changed, "P1")],
        cloud_only: [_row(cloud_only, "P1")],
        trimmed: [_row(trimmed, "P1"), _row(trimmed, "P2")],
        gone: [_row(gone, "P1")],
    }
    rows = [r for rs in uploaded.values() for r in rs]
    r = await http.post(f"{stack['ingest']}/sync/contracts/batch", json={"contracts": rows}, headers=auth)
    assert r.json()["accepted"] == len(rows), r.text
    deleted = [{"合同编号": trimmed, "产品ID": "P2"}, {"合同编号": gone, "产品ID": "P1"}]
    r = await http.post(f"{stack['ingest']}/sync/contracts/batch", json={"deleted": deleted}, headers=auth)
    assert r.json()["deleted"] == 2, r.text
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    r = await http.put(
        f"{stack['ingest']}/sync/contracts/{same}/progress",
        json={"产品ID": "P1", "热喷涂": "已完成", "updated_by": "worker_zhang", "update_time": now},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    await eventually(lambda: _count(stack["admin"], "product_processes", p, 1, "reported_status = '已完成'"))
    await eventually(lambda: _count(stack["admin"], "hetong_original", p, 2, "deleted"))

    # The factory's table after applying the feed: the worker's report is in, TRIM's second line is deleted
    # there too; GONE's only line was deleted in the cloud but is still in the local table.
    local = {
        same: [_row(same, "P1", 热喷涂="已完成"), _row(same, "P2", 备注="加急")],
        changed: [_row(changed, "P1", 备注="本地改过")],
        local_only: [_row(local_only, "P1")],
        trimmed: [_row(trimmed, "P1")],
        gone: [_row(gone, "P1")],
    }
    body = {"contracts": [_entry(c, rs) for c, rs in local.items()], "complete": True}
    r = await http.post(f"{stack['transform']}/sync/reconciliation", json=body, headers=auth)
    assert r.status_code == 200, r.text
    result = r.json()
    mine = {
        k: [c for c in result[k] if c.startswith(p)]
        for k in ("missing_in_cloud", "missing_locally", "different")
    }
    assert mine == {
        "missing_in_cloud": [gone, local_only],
        "missing_locally": [cloud_only],
        "different": [changed],
    }
    assert result["checked"] >= 7

    r = await http.get(f"{stack['transform']}/reports/consistency", headers=auth)
    entry = r.json()["local_vs_cloud"][stack["client_id"]]
    assert entry["checked_at"] == result["checked_at"]
    assert entry["complete"] is True
    assert (entry["different"], entry["missing_in_cloud"]) == ([changed], [gone, local_only])
    # every other test's contracts are "missing locally" too: the report counts them all and lists a sample
    assert entry["missing_locally_count"] == len(result["missing_locally"])
    assert entry["missing_locally"] == result["missing_locally"][:100]

    # A partial digest checks only what it lists: no cloud contract is "missing locally", and it replaces the
    # client's previous result.
    body = {"contracts": [_entry(same, local[same]), _entry(changed, uploaded[changed])], "complete": False}
    r = await http.post(f"{stack['transform']}/sync/reconciliation", json=body, headers=auth)
    assert r.json() | {"checked_at": None} == {
        "checked": 2,
        "missing_in_cloud": [],
        "missing_locally": [],
        "different": [],
        "checked_at": None,
    }
    r = await http.get(f"{stack['transform']}/reports/consistency", headers=auth)
    entry = r.json()["local_vs_cloud"][stack["client_id"]]
    assert (entry["complete"], entry["checked"], entry["different"], entry["missing_locally_count"]) == (
        False,
        2,
        [],
        0,
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{nope", 400, "malformed_json"),
        (
            b'{"contracts": [{"\\u5408\\u540c\\u7f16\\u53f7": "HT1", "lines": 1, "hash": "xyz"}]}',
            422,
            "invalid_hash",
        ),
        (b'{"contracts": [], "complete": 1}', 422, "invalid_complete"),
        (b'{"complete": true}', 422, "invalid_request"),
    ],
)
async def test_a_bad_digest_gets_a_stable_code_and_stores_nothing(
    stack: dict[str, Any], body: bytes, status: int, code: str
) -> None:
    r = await stack["http"].post(
        f"{stack['transform']}/sync/reconciliation",
        content=body,
        headers={**stack["auth"], "Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert r.json()["message"]
    stored = await stack["admin"].fetchval(
        "SELECT count(*) FROM transform.reconciliations WHERE client_id = $1", stack["client_id"]
    )
    assert stored == 0


async def test_more_than_twenty_thousand_contracts_is_refused_and_twenty_thousand_accepted(
    stack: dict[str, Any],
) -> None:
    entry = {"lines": 1, "hash": "0" * 64}
    url = f"{stack['transform']}/sync/reconciliation"
    many = [{"合同编号": f"RCMAX-{i:05d}-合同编号较长的样子", **entry} for i in range(20_001)]
    r = await stack["http"].post(url, json={"contracts": many}, headers=stack["auth"])
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_many_contracts"
    r = await stack["http"].post(url, json={"contracts": many[:20_000]}, headers=stack["auth"])
    assert r.status_code == 200, r.text
    assert (r.json()["checked"], len(r.json()["missing_in_cloud"])) == (20_000, 20_000)


async def test_the_sync_read_scope_is_required(stack: dict[str, Any]) -> None:
    token = await login(
        stack["http"], stack["ingest"], *await create_client(stack["admin"], ["contracts:write"])
    )
    r = await stack["http"].post(
        f"{stack['transform']}/sync/reconciliation", json={"contracts": []}, headers=bearer(token)
    )
    assert r.status_code == 403
    r = await stack["http"].post(f"{stack['transform']}/sync/reconciliation", json={"contracts": []})
    assert r.status_code == 401
