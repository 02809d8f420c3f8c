"""The feed's horizon: retention prunes old changes (each line's newest stays) and a cursor or timestamp from
before what was pruned gets 410 cursor_expired, never a page with a silent gap (issue 8)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from common.retention import Pruner
from common.service import Metrics, base_app
from tests.support.schemas import scratch_schema
from tests.support.tokens import TestSigner
from transform.adapters.feed import FIRST_CHANGE_SINCE, retention_policy
from transform.bootstrap import context
from transform.config import Settings
from transform.domain.cursor import Cursor, Position
from transform.entrypoints.http import router

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "transform" / "migrations"
SIGNER = TestSigner()
JWKS_URL = "http://ingest.invalid/.well-known/jwks.json"  # unused: the routes get SIGNER's verifier
Get = Callable[..., Awaitable[httpx.Response]]


async def _change(pool: asyncpg.Pool, contract: str, line: str, pct: int, age_days: float) -> None:
    at = datetime.now(UTC) - timedelta(days=age_days)
    await pool.execute(
        "INSERT INTO change_feed (contract_no, product_id, progress_percentage, current_process, updated_at,"
        " updated_by, recorded_at) VALUES ($1, $2, $3, '检验', $4, 'w', $4)",
        contract,
        line,
        pct,
        at,
    )


def _token() -> dict[str, str]:
    return SIGNER.bearer("sync:read", "local-agent")


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


@asynccontextmanager
async def _feed() -> AsyncIterator[tuple[asyncpg.Pool, Get, Pruner]]:
    """A scratch transform schema, its HTTP routes, and its pruner with the default 30-day horizon."""
    async with scratch_schema(MIGRATIONS, prefix="tf") as (_, pool):
        settings = Settings(postgres={"user": "transform", "password": "unused"}, token_jwks_url=JWKS_URL)
        app = base_app("transform", Metrics("transform"), _no_lifespan)
        app.include_router(router)
        app.state.ctx = context(settings, pool, SIGNER.verifier())
        pruner = Pruner(
            pool, [retention_policy(settings.retention.feed_days)], Metrics("t"), interval_s=60, batch_size=2
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://transform") as client:

            async def get(**params: Any) -> httpx.Response:
                return await client.get("/sync/pending-updates", params=params, headers=_token())

            yield pool, get, pruner


async def test_retention_keeps_each_lines_newest_change_and_a_resync_sees_every_line() -> None:
    async with _feed() as (pool, get, pruner):
        await _change(pool, "C1", "P1", 10, 60)  # superseded and old: pruned
        await _change(pool, "C1", "P1", 20, 45)  # superseded and old: pruned
        await _change(pool, "C1", "P1", 30, 1)  # newest of C1/P1
        await _change(pool, "C2", "P1", 50, 90)  # old but the line's newest: kept
        await _change(pool, "C3", "P1", 70, 40)  # superseded, old: pruned
        await _change(pool, "C3", "P1", 80, 10)  # superseded but young: kept
        await _change(pool, "C3", "P1", 90, 5)

        assert await pruner.prune_once() == {"change_feed": 3}
        assert await pruner.prune_once() == {"change_feed": 0}

        page = (await get(limit=100)).json()  # `since` omitted: a re-sync from the start
        got = [(c["合同编号"], c["progress_percentage"]) for c in page["contracts"]]
        assert got == [("C1", 30.0), ("C2", 50.0), ("C3", 80.0), ("C3", 90.0)]


async def test_a_cursor_from_before_the_pruned_horizon_gets_410_and_a_newer_one_pages_on() -> None:
    async with _feed() as (pool, get, pruner):
        await _change(pool, "C1", "P1", 10, 60)
        old_cursor = (await get(limit=1)).json()["next_cursor"]
        await _change(pool, "C1", "P1", 20, 50)
        await _change(pool, "C1", "P1", 30, 1)
        fresh = (await get(limit=100)).json()
        assert len(fresh["contracts"]) == 3
        assert (await pruner.prune_once())["change_feed"] == 2

        expired = await get(since=old_cursor)
        assert expired.status_code == 410, expired.text
        body = expired.json()
        assert body["code"] == "cursor_expired"
        assert "省略 since" in body["message"] and "omit since" in body["message"]

        after = await get(since=fresh["next_cursor"])  # a cursor past the horizon is unaffected
        assert after.status_code == 200 and after.json()["contracts"] == []


async def test_a_timestamp_since_older_than_the_horizon_gets_410_and_a_recent_one_does_not() -> None:
    async with _feed() as (pool, get, pruner):
        await _change(pool, "C1", "P1", 10, 40)
        await _change(pool, "C1", "P1", 20, 2)
        assert (await pruner.prune_once())["change_feed"] == 1

        old = (datetime.now(UTC) - timedelta(days=41)).isoformat()
        expired = await get(since=old)
        assert expired.status_code == 410 and expired.json()["code"] == "cursor_expired"

        recent = await get(since=(datetime.now(UTC) - timedelta(days=3)).isoformat())
        assert recent.status_code == 200
        assert [c["progress_percentage"] for c in recent.json()["contracts"]] == [20.0]


async def test_the_horizon_moves_in_the_deleting_transaction_even_on_a_manual_delete_from_elsewhere() -> None:
    async with _feed() as (pool, get, _):
        await _change(pool, "C9", "P1", 10, 1)
        cursor = (await get(limit=1)).json()["next_cursor"]
        await _change(pool, "C9", "P1", 20, 1)
        async with pool.acquire() as conn, conn.transaction():
            schema = await conn.fetchval("SELECT current_schema()")
            await conn.execute("SET LOCAL search_path TO public")  # an operator's psql session, say
            await conn.execute(f'DELETE FROM "{schema}".change_feed WHERE progress_percentage = 20')
            row = await conn.fetchrow(
                f'SELECT txid::text::bigint AS txid, seq FROM "{schema}".change_feed_horizon'
            )
        assert row is not None and Position(row["txid"], row["seq"]) > Cursor.decode(cursor).position
        assert (await get(since=cursor)).status_code == 410


async def test_the_timestamp_lookup_uses_the_feed_indexes() -> None:
    """20 000 rows and ANALYZE: the planner itself picks the indexes (no enable_seqscan tricks)."""
    async with _feed() as (pool, _, _):
        await pool.execute(
            "INSERT INTO change_feed (contract_no, product_id, progress_percentage, updated_at, updated_by,"
            " recorded_at) SELECT 'E' || g, 'P', 1, now() - g * interval '1 minute', 'w',"
            " now() - g * interval '1 minute' FROM generate_series(1, 20000) g"
        )
        await pool.execute("ANALYZE change_feed")
        plan = "\n".join(
            r[0]
            for r in await pool.fetch(
                "EXPLAIN " + FIRST_CHANGE_SINCE,
                datetime.now(UTC) - timedelta(minutes=10),
            )
        )
        assert "Seq Scan" not in plan, plan
        assert "change_feed_updated_at" in plan and "change_feed_recorded_at" in plan, plan


async def test_paging_while_retention_prunes_gets_either_a_whole_page_or_410_never_a_gap() -> None:
    """Pruner and client run concurrently, with jitter, round after round: the horizon and the page are read in
    one snapshot, so a page from after a prune that lacks the pruned changes cannot happen."""
    rng, outcomes = random.Random(11), {"410": 0, "whole page": 0}
    async with _feed() as (pool, get, pruner):
        for n in range(40):
            line = f"R{n}"
            await _change(pool, f"{line}-sentinel", "P", 1, 0)
            cursor = (await get(limit=1000)).json()["next_cursor"]  # from the start: the sentinel is last
            for pct, age in ((10, 60), (20, 50), (30, 0)):
                await _change(pool, line, "P1", pct, age)

            async def prune() -> None:
                await asyncio.sleep(rng.uniform(0, 0.004))
                await pruner.prune_once()

            async def read(since: str) -> httpx.Response:
                await asyncio.sleep(rng.uniform(0, 0.004))
                return await get(since=since, limit=1000)

            _, page = await asyncio.gather(prune(), read(cursor))
            if page.status_code == 410:
                outcomes["410"] += 1
                continue
            assert page.status_code == 200, page.text
            served = [c["progress_percentage"] for c in page.json()["contracts"] if c["合同编号"] == line]
            assert served == [10.0, 20.0, 30.0], f"round {n}: silent gap, served {served}"
            outcomes["whole page"] += 1
    print(f"concurrent prune and page: {outcomes}")  # noqa: T201
    assert outcomes["410"] and outcomes["whole page"]  # both orders happened: the race was exercised


async def test_a_resync_from_the_start_pages_through_kept_old_changes_without_410() -> None:
    """Each line's newest change stays however old, so paging from the start walks below the horizon: the cursors
    it hands out carry the horizon they were issued under and stay valid until retention prunes again."""
    async with _feed() as (pool, get, pruner):
        for n in range(5):  # five lines whose newest change is old: kept, positioned before what gets pruned
            await _change(pool, f"OLD{n}", "P1", 10, 90)
        await _change(pool, "NEW", "P1", 10, 60)
        await _change(pool, "NEW", "P1", 20, 1)
        assert (await pruner.prune_once())["change_feed"] == 1

        seen, params = [], {"limit": 2}
        while True:
            page = await get(**params)
            assert page.status_code == 200, page.text
            seen += [c["合同编号"] for c in page.json()["contracts"]]
            if not page.json()["has_more"]:
                break
            params = {"since": page.json()["next_cursor"], "limit": 2}
        assert seen == [*(f"OLD{n}" for n in range(5)), "NEW"]

        # A cursor issued mid-re-sync (below the horizon) survives compaction of the old part ...
        mid = (await get(limit=2)).json()["next_cursor"]
        await _change(pool, "OLD3", "P1", 20, 0)
        await pool.execute(
            "UPDATE change_feed SET recorded_at = now() - interval '40 days'"
            " WHERE contract_no = 'OLD3' AND progress_percentage = 10"
        )
        assert (await pruner.prune_once())["change_feed"] == 1
        rest = await get(since=mid, limit=100)
        assert rest.status_code == 200
        assert [c["合同编号"] for c in rest.json()["contracts"]] == ["OLD2", "OLD4", "NEW", "OLD3"]
        # ... but not pruning past everything it was issued under.
        await _change(pool, "NEW", "P1", 30, 0)
        await pool.execute(
            "UPDATE change_feed SET recorded_at = now() - interval '40 days' WHERE contract_no = 'NEW'"
            " AND progress_percentage = 20"
        )
        assert (await pruner.prune_once())["change_feed"] == 1
        assert (await get(since=mid)).status_code == 410
