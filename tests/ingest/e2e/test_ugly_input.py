"""Bad input gets a clear JSON error or a per-row rejection, never a 5xx and never a half-write."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.generate import contract_rows
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
async def ctx(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> dict[str, Any]:
    token = await login(http, services["ingest"].url, *await create_client(admin))
    return {"url": services["ingest"].url, "auth": bearer(token), "http": http, "admin": admin}


def _row(contract: str, product: str = "P1", **extra: object) -> dict[str, object]:
    return {"合同编号": contract, "产品ID": product, "甲方": "客户A", "产品名称": "镀铬辊", **extra}


async def _lines(admin: asyncpg.Connection, contract: str) -> int:
    return int(
        await admin.fetchval("SELECT count(*) FROM ingest.contract_lines WHERE contract_no = $1", contract)
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"contracts": "nope"}', 422, "invalid_request"),
        (b'{"contracts": []}', 422, "empty_batch"),
        (b"[1, 2]", 422, "invalid_request"),
        (
            b'{"contracts": [{"\\u5408\\u540c\\u7f16\\u53f7": "A", "\\u4ea7\\u54c1ID": "B"}], "overwrite": "yes"}',
            422,
            "invalid_overwrite",
        ),
        (
            b'{"contracts": [{"\\u5408\\u540c\\u7f16\\u53f7": "A", "\\u4ea7\\u54c1ID": "B"}], "source": ""}',
            422,
            "invalid_source",
        ),
    ],
)
async def test_malformed_batches_get_a_stable_code(
    ctx: dict[str, Any], body: bytes, status: int, code: str
) -> None:
    r = await ctx["http"].post(
        f"{ctx['url']}/sync/contracts/batch",
        content=body,
        headers={**ctx["auth"], "Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert r.json()["message"]


async def test_bad_rows_are_rejected_one_by_one_and_good_rows_stored(ctx: dict[str, Any]) -> None:
    c = f"UG{uuid.uuid4().hex[:8]}"
    rows = [
        _row(c, "P1", 备注='\'; DROP TABLE ingest.contract_lines;-- 🎉 "quoted"'),
        {"产品ID": "P2", "甲方": "no contract number"},
        _row(c, "P1"),  # the same line again in this batch
        _row(
            f"ＵＧ{c[2:]}".replace(c[2:], "".join(chr(ord(ch) + 0xFEE0) for ch in c[2:])), "P3"
        ),  # full width
        _row(c, "P4", 数量=["not", "scalar"]),
        "just a string",
    ]
    r = await ctx["http"].post(
        f"{ctx['url']}/sync/contracts/batch",
        json={"contracts": rows, "overwrite": True, "source": "local_system"},
        headers=ctx["auth"],
    )
    assert r.status_code == 200, r.text
    results = {x["index"]: x for x in r.json()["results"]}
    assert [results[i]["status"] for i in range(6)] == [
        "accepted",
        "rejected",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
    ]
    assert [results[i].get("reason") for i in (1, 2, 4, 5)] == [
        "missing_field",
        "duplicate_in_batch",
        "invalid_value",
        "not_an_object",
    ]
    assert results[3]["合同编号"] == c  # full-width digits and letters name the same contract
    assert await _lines(ctx["admin"], c) == 2
    stored = await ctx["admin"].fetchval(
        "SELECT row->>'备注' FROM ingest.contract_lines WHERE contract_no = $1 AND product_id = 'P1'", c
    )
    assert stored == rows[0]["备注"]  # type: ignore[index]


async def test_too_many_rows_and_oversized_bodies_are_refused_without_a_write(ctx: dict[str, Any]) -> None:
    prefix = f"BIG{uuid.uuid4().hex[:6]}-"
    rows = contract_rows(10_001, seed=3, prefix=prefix)
    r = await ctx["http"].post(
        f"{ctx['url']}/sync/contracts/batch", json={"contracts": rows}, headers=ctx["auth"]
    )
    assert r.status_code == 413
    assert r.json()["code"] == "too_many_rows"
    big = b'{"contracts": [' + b'{"x": "' + b"a" * (9 * 1024 * 1024) + b'"}]}'
    r = await ctx["http"].post(
        f"{ctx['url']}/sync/contracts/batch",
        content=big,
        headers={**ctx["auth"], "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert (
        await ctx["admin"].fetchval(
            "SELECT count(*) FROM ingest.contract_lines WHERE contract_no LIKE $1", prefix + "%"
        )
        == 0
    )


async def test_ten_thousand_rows_in_one_request_are_accepted(ctx: dict[str, Any]) -> None:
    prefix = f"TK{uuid.uuid4().hex[:6]}-"
    rows = contract_rows(10_000, seed=5, prefix=prefix)
    r = await ctx["http"].post(
        f"{ctx['url']}/sync/contracts/batch", json={"contracts": rows, "overwrite": True}, headers=ctx["auth"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (10_000, 0)
    assert (
        await ctx["admin"].fetchval("SELECT count(*) FROM ingest.outbox WHERE key LIKE $1", prefix + "%")
        == 10_000
    )


async def test_overwrite_false_keeps_an_existing_line(ctx: dict[str, Any]) -> None:
    c = f"OW{uuid.uuid4().hex[:8]}"
    post = ctx["http"].post
    await post(
        f"{ctx['url']}/sync/contracts/batch",
        json={"contracts": [_row(c, 热喷涂="进行中")]},
        headers=ctx["auth"],
    )
    r = await post(
        f"{ctx['url']}/sync/contracts/batch",
        json={"contracts": [_row(c, 热喷涂="已完成")], "overwrite": False},
        headers=ctx["auth"],
    )
    assert r.json()["results"][0] == {
        "index": 0,
        "合同编号": c,
        "产品ID": "P1",
        "status": "unchanged",
        "reason": "exists_not_overwritten",
    }
    assert (
        await ctx["admin"].fetchval(
            "SELECT row->>'热喷涂' FROM ingest.contract_lines WHERE contract_no = $1", c
        )
        == "进行中"
    )
    r = await post(
        f"{ctx['url']}/sync/contracts/batch",
        json={"contracts": [_row(c, 热喷涂="已完成")], "overwrite": True},
        headers=ctx["auth"],
    )
    assert r.json()["results"][0]["version"] == 2


async def test_the_same_batch_twice_makes_no_duplicate_rows_or_events(ctx: dict[str, Any]) -> None:
    c = f"ID{uuid.uuid4().hex[:8]}"
    body = {"contracts": [_row(c, "P1"), _row(c, "P2")], "overwrite": True}
    url, post = f"{ctx['url']}/sync/contracts/batch", ctx["http"].post
    first = await post(url, json=body, headers={**ctx["auth"], "Idempotency-Key": f"k-{c}"})
    replay = await post(url, json=body, headers={**ctx["auth"], "Idempotency-Key": f"k-{c}"})
    plain = await post(url, json=body, headers=ctx["auth"])
    assert first.json()["accepted"] == 2
    assert replay.content == first.content  # the same answer, byte for byte
    assert plain.json()["unchanged"] == 2  # no key: the content hash still says nothing changed
    events = await ctx["admin"].fetchval("SELECT count(*) FROM ingest.outbox WHERE key LIKE $1", c + "/%")
    assert events == 2
    other = await post(
        url, json={**body, "overwrite": False}, headers={**ctx["auth"], "Idempotency-Key": f"k-{c}"}
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_concurrent_requests_with_one_key_apply_once(ctx: dict[str, Any]) -> None:
    import asyncio

    c = f"CC{uuid.uuid4().hex[:8]}"
    body, headers = {"contracts": [_row(c)]}, {**ctx["auth"], "Idempotency-Key": f"k-{c}"}
    answers = await asyncio.gather(
        *(
            ctx["http"].post(f"{ctx['url']}/sync/contracts/batch", json=body, headers=headers)
            for _ in range(5)
        )
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert await ctx["admin"].fetchval("SELECT count(*) FROM ingest.outbox WHERE key LIKE $1", c + "/%") == 1


async def test_a_chunked_oversized_upload_is_cut_off_with_413(ctx: dict[str, Any]) -> None:
    async def chunks() -> Any:
        yield b'{"contracts": [{"x": "'
        for _ in range(10):
            yield b"a" * (1024 * 1024)  # no Content-Length: the limit must count bytes as they arrive
        yield b'"}]}'

    r = await ctx["http"].post(
        f"{ctx['url']}/sync/contracts/batch",
        content=chunks(),
        headers={**ctx["auth"], "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
