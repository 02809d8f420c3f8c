"""Issue 8 (5.7, 5.9): concurrent capture and pull of one new company make one customer, and a sync
decision made in a transaction that retries is counted once.

Both run on a throwaway schema with the rules migrations, because the transactions must really commit
for the other connection to see them (the shared `rules` schema is left alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from common.events.customers import ErpCustomerPulled, WechatCustomerCaptured
from common.service import Metrics
from rules.adapters.rulebook_store import PostgresRuleSource
from rules.bootstrap import count_decisions, decisions_counter, uow_on
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Deps, Trigger
from rules.service_layer.rulebook_cache import RuleBookCache
from tests.support.schemas import scratch_schema

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "rules" / "migrations"
T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
Tx = Callable[[asyncpg.Connection], Awaitable[None]]
# How long the first transaction waits, before committing, for the other to catch up. Without a lock
# the other arrives at once; with one it is blocked until the first commits, so the wait times out.
BARRIER_S = 1.5


def trigger(name: str) -> Trigger:
    return Trigger(name, uuid.uuid4(), "test")


def capture(wechat_id: str, company: str) -> Captured:
    event = WechatCustomerCaptured(
        wechat_id=wechat_id,
        version=1,
        captured_at=T0,
        client_id="t",
        fields={"company_name": company, "phone": "13800138000", "has_order": True},
    )
    return Captured(event, trigger("wechat_capture"))


def pull(erp_id: int, company: str) -> Pulled:
    fields = {"name": company, "mobile": "13800138000", "person": "张伟"}
    event = ErpCustomerPulled(
        erp_id=erp_id, code=None, content_hash=uuid.uuid4().hex, pulled_at=T0, fields=fields
    )
    return Pulled(event, trigger("erp_pull"))


async def interleave(pool: asyncpg.Pool, first: Tx, second: Tx) -> None:
    """`second` starts once `first` has done its work, and `first` commits only once `second` has done
    its own (or after BARRIER_S): both match before either commits unless something serialises them."""
    first_done, second_done = asyncio.Event(), asyncio.Event()

    async def run_first() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await first(conn)
            first_done.set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(BARRIER_S):
                    await second_done.wait()

    async def run_second() -> None:
        await first_done.wait()
        async with pool.acquire() as conn, conn.transaction():
            await second(conn)
            second_done.set()

    await asyncio.gather(run_first(), run_second())


@pytest.mark.parametrize("capture_first", [True, False], ids=["capture-then-pull", "pull-then-capture"])
async def test_a_capture_and_a_pull_of_one_new_company_racing_make_one_customer(capture_first: bool) -> None:
    async with scratch_schema(MIGRATIONS, prefix="t_rules", max_size=4) as (_, pool):
        deps = Deps(RuleBookCache(PostgresRuleSource(pool)))
        for round_ in range(3):
            company = f"汕头竞速{round_}{uuid.uuid4().hex[:6]}彩印有限公司"
            wechat, ord_ = f"wx_{uuid.uuid4().hex[:10]}", 900_000 + round_

            async def by_capture(
                conn: asyncpg.Connection, wechat: str = wechat, company: str = company
            ) -> None:
                await apply_captures(uow_on(conn), [capture(wechat, company)], deps)

            async def by_pull(conn: asyncpg.Connection, ord_: int = ord_, company: str = company) -> None:
                await apply_pulls(uow_on(conn), [pull(ord_, company)], deps)

            first, second = (by_capture, by_pull) if capture_first else (by_pull, by_capture)
            await interleave(pool, first, second)
            rows = await pool.fetch(
                "SELECT id, wechat_id, erp_customer_id FROM customers_unified WHERE company_name = $1",
                company,
            )
            assert len(rows) == 1, [dict(r) for r in rows]
            assert (rows[0]["wechat_id"], rows[0]["erp_customer_id"]) == (wechat, ord_)


async def test_a_decision_in_a_transaction_that_retries_is_counted_once() -> None:
    async with scratch_schema(MIGRATIONS, prefix="t_rules", max_size=4) as (_, pool):
        metrics = Metrics("rules", CollectorRegistry())
        decisions = decisions_counter(metrics)
        count_decisions(metrics, decisions, pool)  # as rules' lifespan wires it
        deps = Deps(RuleBookCache(PostgresRuleSource(pool)), decisions.record)
        wechat = f"wx_{uuid.uuid4().hex[:10]}"
        failures = 0
        for _ in range(3):  # what the inbox consumer does: retry the whole transaction in place
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await apply_captures(uow_on(conn), [capture(wechat, "汕头重试彩印有限公司")], deps)
                    if failures < 2:  # e.g. a deadlock detected on a later statement of the batch
                        failures += 1
                        raise asyncpg.exceptions.DeadlockDetectedError("injected")
                break
            except asyncpg.exceptions.DeadlockDetectedError:
                continue
        committed = await pool.fetch("SELECT rule_name, action FROM sync_decisions")
        assert len(committed) == 1
        await metrics.refresh()  # what a /metrics scrape does first
        counted = metrics.registry.get_sample_value(
            "rollsync_sync_decisions_total",
            {"rule": committed[0]["rule_name"], "action": committed[0]["action"]},
        )
        assert counted == 1.0
        assert decisions.pending == 0  # the two aborted tries were dropped, not kept for later


async def test_a_decision_counts_only_once_its_transaction_has_committed() -> None:
    async with scratch_schema(MIGRATIONS, prefix="t_rules", max_size=4) as (_, pool):
        metrics = Metrics("rules", CollectorRegistry())
        decisions = decisions_counter(metrics)
        count_decisions(metrics, decisions, pool)
        deps = Deps(RuleBookCache(PostgresRuleSource(pool)), decisions.record)

        def total() -> float:
            return sum(
                s.value
                for m in metrics.registry.collect()
                if m.name == "rollsync_sync_decisions"
                for s in m.samples
                if s.name == "rollsync_sync_decisions_total"
            )

        async with pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            await apply_captures(
                uow_on(conn), [capture(f"wx_{uuid.uuid4().hex[:10]}", "汕头提交彩印有限公司")], deps
            )
            await metrics.refresh()
            assert (total(), decisions.pending) == (0.0, 1)  # still open: not yet a decision anyone sees
            await tx.commit()
        await metrics.refresh()
        assert (total(), decisions.pending) == (1.0, 0)


async def test_batches_naming_the_same_companies_in_different_orders_neither_deadlock_nor_duplicate() -> None:
    async with scratch_schema(MIGRATIONS, prefix="t_rules", max_size=4) as (_, pool):
        deps = Deps(RuleBookCache(PostgresRuleSource(pool)))
        for round_ in range(5):
            names = [f"常州交错{round_}{k}{uuid.uuid4().hex[:6]}包装材料有限公司" for k in "AB"]
            wechats = [f"wx_{uuid.uuid4().hex[:10]}" for _ in names]
            ords = [910_000 + 2 * round_, 910_001 + 2 * round_]

            async def captures(names: list[str] = names, wechats: list[str] = wechats) -> None:
                async with pool.acquire() as conn, conn.transaction():
                    await apply_captures(
                        uow_on(conn), [capture(w, n) for w, n in zip(wechats, names, strict=True)], deps
                    )

            async def pulls(names: list[str] = names, ords: list[int] = ords) -> None:
                async with (
                    pool.acquire() as conn,
                    conn.transaction(),
                ):  # handled in ord order, captures in WeChat-id order
                    await apply_pulls(
                        uow_on(conn),
                        [pull(o, n) for o, n in reversed(list(zip(ords, names, strict=True)))],
                        deps,
                    )

            await asyncio.gather(captures(), pulls())  # a deadlock would raise here
            for name in names:
                assert (
                    await pool.fetchval(
                        "SELECT count(*) FROM customers_unified WHERE company_name = $1", name
                    )
                    == 1
                )
