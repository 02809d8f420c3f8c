"""Seed 000's `dailyLimit`: contract lines per client per China day, through the real ingest process."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
CHINA = timezone(timedelta(hours=8))


async def _ctx(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient, limit: int | None
) -> dict[str, Any]:
    client_id, secret = await create_client(admin, ["contracts:write"])
    if limit is None:  # the migration's default, i.e. seed 000's real 10 000
        await admin.execute(
            "UPDATE ingest.clients SET rows_per_day = DEFAULT WHERE client_id = $1", client_id
        )
    else:
        await admin.execute(
            "UPDATE ingest.clients SET rows_per_day = $2 WHERE client_id = $1", client_id, limit
        )
    token = await login(http, services["ingest"].url, client_id, secret)
    return {"url": f"{services['ingest'].url}/sync/contracts/batch", "auth": bearer(token), "http": http}


def _rows(prefix: str, n: int) -> list[dict[str, object]]:
    return [{"合同编号": f"{prefix}-{i}", "产品ID": "P1", "甲方": "客户A"} for i in range(n)]


async def _post(ctx: dict[str, Any], rows: list[dict[str, object]], key: str | None = None) -> httpx.Response:
    headers = {**ctx["auth"], **({"Idempotency-Key": key} if key else {})}
    body = {"contracts": rows, "overwrite": True}
    return await ctx["http"].post(ctx["url"], json=body, headers=headers, timeout=120)  # type: ignore[no-any-return]


async def _stored(admin: asyncpg.Connection, prefix: str) -> int:
    return int(
        await admin.fetchval(
            "SELECT count(*) FROM ingest.contract_lines WHERE contract_no LIKE $1", prefix + "%"
        )
    )


def _seconds_to_china_midnight() -> float:
    local = datetime.now(UTC).astimezone(CHINA)
    return (
        local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1) - local
    ).total_seconds()


def _assert_limited(r: httpx.Response, limit: int) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "daily_row_limit"
    assert str(limit) in r.json()["message"]
    retry_after = int(r.headers["Retry-After"])
    # To the next China-day midnight (the test's own clock read after the answer bounds it from below).
    assert _seconds_to_china_midnight() - 60 <= retry_after <= _seconds_to_china_midnight() + 60


async def test_the_row_past_the_daily_limit_is_refused_with_retry_after_to_china_midnight(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    ctx, p = await _ctx(admin, services, http, 5), f"DAY{uuid.uuid4().hex[:8]}"
    first = await _post(ctx, _rows(p + "a", 3), key="first")
    assert first.json()["accepted"] == 3
    over = await _post(ctx, _rows(p + "b", 3))  # 3 + 3 > 5: the whole batch is refused, nothing written
    _assert_limited(over, 5)
    assert await _stored(admin, p + "b") == 0
    assert (await _post(ctx, _rows(p + "c", 2))).json()["accepted"] == 2  # rows 4 and 5: exactly the limit
    _assert_limited(await _post(ctx, _rows(p + "d", 1)), 5)  # the 6th row
    replay = await _post(
        ctx, _rows(p + "a", 3), key="first"
    )  # a retry of a counted batch is not counted again
    assert replay.status_code == 200 and replay.content == first.content


async def test_concurrent_batches_never_share_the_last_rows(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    ctx, p = await _ctx(admin, services, http, 10), f"DAY{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(*(_post(ctx, _rows(f"{p}{i}", 3)) for i in range(6)))
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 429, 429, 429]
    assert await _stored(admin, p) == 9


async def test_the_10001st_row_at_the_seed_default_is_refused(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    ctx, p = await _ctx(admin, services, http, None), f"DAY{uuid.uuid4().hex[:8]}"
    assert (
        await admin.fetchval(
            "SELECT column_default FROM information_schema.columns"
            " WHERE table_schema = 'ingest' AND table_name = 'clients'"
            " AND column_name = 'rows_per_day'"
        )
        == "10000"
    )
    full = await _post(ctx, _rows(p + "a", 10_000))
    assert full.status_code == 200 and full.json()["accepted"] == 10_000
    _assert_limited(await _post(ctx, _rows(p + "b", 1)), 10_000)
    assert await _stored(admin, p + "b") == 0
