"""Lines deleted at the source (issue 9, contract points 1 and 2), through the real ingest process."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def ctx(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    token = await login(http, services["ingest"].url, *await create_client(admin))
    return {"url": f"{services['ingest'].url}/sync/contracts/batch", "auth": bearer(token), "http": http}


def _row(contract: str, product: str = "P1", **extra: object) -> dict[str, object]:
    return {"合同编号": contract, "产品ID": product, "甲方": "客户A", "产品名称": "镀铬辊", **extra}


def _key(contract: str, product: str = "P1") -> dict[str, str]:
    return {"合同编号": contract, "产品ID": product}


async def _post(ctx: dict[str, Any], body: Any, key: str | None = None) -> httpx.Response:
    headers = {**ctx["auth"], **({"Idempotency-Key": key} if key else {})}
    return await ctx["http"].post(ctx["url"], json=body, headers=headers)  # type: ignore[no-any-return]


async def _events(admin: asyncpg.Connection, contract: str) -> list[dict[str, Any]]:
    rows = await admin.fetch(
        "SELECT payload FROM ingest.outbox WHERE key LIKE $1 ORDER BY created_at, id", contract + "/%"
    )
    return [json.loads(bytes(r["payload"]))["payload"] for r in rows]


async def _line(admin: asyncpg.Connection, contract: str, product: str = "P1") -> tuple[int, bool] | None:
    r = await admin.fetchrow(
        "SELECT version, deleted FROM ingest.contract_lines WHERE contract_no = $1 AND product_id = $2",
        contract,
        product,
    )
    return (r["version"], r["deleted"]) if r else None


async def test_a_deleted_line_gets_the_next_version_and_an_empty_row_event(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DL{uuid.uuid4().hex[:8]}"
    r = await _post(ctx, {"contracts": [_row(c, "P1"), _row(c, "P2")], "overwrite": True})
    assert r.json()["accepted"] == 2
    r = await _post(ctx, {"contracts": [], "deleted": [_key(c, "P1")], "source": "local_agent"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accepted": 0,
        "unchanged": 0,
        "rejected": 0,
        "results": [],
        "deleted": 1,
        "deleted_results": [{"index": 0, "合同编号": c, "产品ID": "P1", "status": "deleted", "version": 2}],
    }
    assert await _line(admin, c, "P1") == (2, True)
    assert await _line(admin, c, "P2") == (1, False)
    last = (await _events(admin, c))[-1]
    assert (last["product_id"], last["version"], last["deleted"], last["row"]) == ("P1", 2, True, {})
    assert last["source"] == "local_agent"


async def test_deleting_unknown_or_deleted_lines_changes_nothing_and_says_why(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DU{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c)]})
    await _post(ctx, {"deleted": [_key(c)]})
    r = await _post(ctx, {"deleted": [_key(c), _key(c, "never")]})
    assert [(x["status"], x["reason"]) for x in r.json()["deleted_results"]] == [
        ("unchanged", "already_deleted"),
        ("unchanged", "not_found"),
    ]
    assert r.json()["deleted"] == 0
    assert len(await _events(admin, c)) == 2  # the upload and the one delete
    assert await _line(admin, c) == (2, True)
    assert await _line(admin, c, "never") is None


async def test_a_deleted_line_uploaded_again_comes_back_with_a_newer_version(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DR{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c)]})
    await _post(ctx, {"deleted": [_key(c)]})
    # the very same content, and overwrite false: a deleted line is re-created regardless
    r = await _post(ctx, {"contracts": [_row(c)], "overwrite": False})
    assert r.json()["results"][0] == {
        "index": 0,
        "合同编号": c,
        "产品ID": "P1",
        "status": "accepted",
        "version": 3,
    }
    assert await _line(admin, c) == (3, False)
    last = (await _events(admin, c))[-1]
    assert (last["version"], last["deleted"], last["row"]["甲方"]) == (3, False, "客户A")
    r = await _post(ctx, {"contracts": [_row(c)]})
    assert r.json()["results"][0]["reason"] == "same_content"


async def test_ugly_deleted_entries_are_rejected_one_by_one_and_the_rest_applied(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DX{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c, "P1"), _row(c, "P2"), _row(c, "P3")]})
    deleted: list[object] = [
        _key(c, "P1"),
        {"合同编号": c},  # no 产品ID
        {"合同编号": "   ", "产品ID": "P1"},  # blank
        {"合同编号": [c], "产品ID": "P2"},  # wrong type
        "DX/P2",  # not an object
        {"合同编号": f" {c}\u3000", "产品ID": "Ｐ1"},  # the first entry again, in other clothes
        _key(c, "P3"),  # also uploaded below
        {"合同编号": f"{c}/x", "产品ID": "P2"},
    ]
    body = {
        "contracts": [_row(c, "P3", 备注="changed"), _row(c, "P4")],
        "deleted": deleted,
        "overwrite": True,
    }
    r = await _post(ctx, body)
    assert r.status_code == 200, r.text
    got = [(x["index"], x["status"], x.get("reason")) for x in r.json()["deleted_results"]]
    assert got == [
        (0, "deleted", None),
        (1, "rejected", "missing_field"),
        (2, "rejected", "missing_field"),
        (3, "rejected", "missing_field"),
        (4, "rejected", "not_an_object"),
        (5, "rejected", "duplicate_in_batch"),
        (6, "rejected", "uploaded_and_deleted"),
        (7, "rejected", "invalid_key"),
    ]
    assert all(x["message"] for x in r.json()["deleted_results"] if x["status"] == "rejected")
    assert [(x["index"], x["status"], x.get("reason")) for x in r.json()["results"]] == [
        (0, "rejected", "uploaded_and_deleted"),
        (1, "accepted", None),
    ]
    assert (r.json()["accepted"], r.json()["rejected"], r.json()["deleted"]) == (1, 1, 1)
    assert await _line(admin, c, "P3") == (1, False)  # neither changed nor deleted
    assert await _line(admin, c, "P2") == (1, False)
    assert await _line(admin, c, "P1") == (2, True)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"contracts": [], "deleted": "HT1"}, 422, "invalid_deleted"),
        ({"deleted": {"合同编号": "A", "产品ID": "B"}}, 422, "invalid_deleted"),
        ({"contracts": [], "deleted": None}, 422, "invalid_deleted"),
        ({"contracts": [], "deleted": []}, 422, "empty_batch"),
        ({"deleted": []}, 422, "empty_batch"),
        ({"contracts": None, "deleted": [{"合同编号": "A", "产品ID": "B"}]}, 422, "invalid_request"),
    ],
)
async def test_a_malformed_deleted_list_gets_a_stable_code(
    ctx: dict[str, Any], body: dict[str, Any], status: int, code: str
) -> None:
    r = await _post(ctx, body)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert r.json()["message"]


async def test_contracts_and_deleted_share_the_row_limit_and_nothing_is_written_over_it(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DB{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c)]})
    rows = [_row(c, f"N{i}") for i in range(6000)]
    r = await _post(ctx, {"contracts": rows, "deleted": [_key(c)] + [_key(c, f"Z{i}") for i in range(4000)]})
    assert r.status_code == 413
    assert r.json()["code"] == "too_many_rows"
    assert await _line(admin, c) == (1, False)
    assert len(await _events(admin, c)) == 1


async def test_the_idempotency_key_covers_the_deleted_list_too(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DK{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c, "P1"), _row(c, "P2")]})
    body = {"contracts": [_row(c, "P3")], "deleted": [_key(c, "P1")]}
    first = await _post(ctx, body, key=f"k-{c}")
    replay = await _post(ctx, body, key=f"k-{c}")
    assert first.json()["deleted"] == 1
    assert replay.content == first.content  # not "already_deleted": the stored answer, byte for byte
    other = await _post(ctx, {**body, "deleted": [_key(c, "P2")]}, key=f"k-{c}")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert await _line(admin, c, "P2") == (1, False)
    assert len(await _events(admin, c)) == 4  # 2 uploads, P3, one delete


async def test_concurrent_deletes_of_one_line_count_once(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DC{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c)]})
    answers = await asyncio.gather(*(_post(ctx, {"deleted": [_key(c)]}) for _ in range(6)))
    assert {a.status_code for a in answers} == {200}
    statuses = sorted(a.json()["deleted_results"][0]["status"] for a in answers)
    assert statuses == ["deleted"] + ["unchanged"] * 5
    assert {a.json()["deleted_results"][0].get("reason") for a in answers} == {None, "already_deleted"}
    assert await _line(admin, c) == (2, True)
    assert [e["deleted"] for e in await _events(admin, c)] == [False, True]


async def test_a_delete_racing_an_upload_of_the_same_line_leaves_versions_in_order(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    c = f"DV{uuid.uuid4().hex[:8]}"
    await _post(ctx, {"contracts": [_row(c)]})
    bodies = [{"deleted": [_key(c)]}, {"contracts": [_row(c, 备注="new")], "overwrite": True}] * 4
    answers = await asyncio.gather(*(_post(ctx, b) for b in bodies))
    assert {a.status_code for a in answers} == {200}
    versions = [e["version"] for e in await _events(admin, c)]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)  # no version handed out twice
    final = await _line(admin, c)
    assert final is not None
    assert final[0] == versions[-1]


async def test_crossed_uploads_and_deletes_in_concurrent_requests_never_fail(
    ctx: dict[str, Any], admin: asyncpg.Connection
) -> None:
    """One request uploads A and deletes B while another uploads B and deletes A: their row locks cross."""
    c = f"DD{uuid.uuid4().hex[:8]}"
    pairs = [(f"A{i}", f"B{i}") for i in range(40)]
    await _post(ctx, {"contracts": [_row(c, p) for pair in pairs for p in pair]})
    bodies = [
        {"contracts": [_row(c, a, 备注="x")], "deleted": [_key(c, b)], "overwrite": True} for a, b in pairs
    ] + [{"contracts": [_row(c, b, 备注="y")], "deleted": [_key(c, a)], "overwrite": True} for a, b in pairs]
    for round_ in range(3):
        batch = [dict(body, source=f"r{round_}") for body in bodies]
        answers = await asyncio.gather(*(_post(ctx, b) for b in batch))
        assert [a.status_code for a in answers if a.status_code != 200] == [], answers[0].text
    versions = await admin.fetch(
        "SELECT product_id, version FROM ingest.contract_lines WHERE contract_no = $1", c
    )
    events = await _events(admin, c)
    for r in versions:  # every version handed out went to the outbox exactly once
        mine = [e["version"] for e in events if e["product_id"] == r["product_id"]]
        assert sorted(mine) == list(range(1, r["version"] + 1)), r["product_id"]
