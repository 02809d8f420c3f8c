"""The per-contract locks both consumers take: exclusive per contract, and never a deadlock."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.support.stack import admin_dsn
from transform.adapters.locks import lock_contracts

pytestmark = pytest.mark.integration


async def test_overlapping_sets_in_opposite_orders_do_not_deadlock_and_exclude_each_other() -> None:
    pool = await asyncpg.create_pool(admin_dsn(), min_size=2, max_size=2)
    assert pool is not None
    contracts = [f"LOCKTEST-{i}" for i in range(40)]
    inside = 0
    overlaps = 0

    async def holder(order: list[str]) -> None:
        nonlocal inside, overlaps
        for _ in range(20):
            async with pool.acquire() as conn, conn.transaction():
                await lock_contracts(conn, order)
                inside += 1
                overlaps += inside > 1
                await asyncio.sleep(0.005)
                inside -= 1

    try:
        await asyncio.wait_for(asyncio.gather(holder(contracts), holder(contracts[::-1])), 60)
    finally:
        await pool.close()
    assert overlaps == 0
