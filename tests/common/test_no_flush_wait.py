"""NO_FLUSH_WAIT: a statement run on its own commits without waiting for the WAL flush, and only that statement."""

from __future__ import annotations

import pytest

from common.db import NO_FLUSH_WAIT
from tests.support.schemas import plumbing_schema

pytestmark = pytest.mark.integration


async def test_the_statement_that_joins_it_commits_asynchronously_and_the_session_is_untouched() -> None:
    async with plumbing_schema() as (_schema, pool), pool.acquire() as conn:
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
        inside = await conn.fetchval(f"SELECT current_setting('synchronous_commit') FROM {NO_FLUSH_WAIT}")
        assert inside == "off"
        # set_config(…, true) ends with the statement's own transaction: the next statement waits for the flush.
        assert await conn.fetchval("SHOW synchronous_commit") == "on"


async def test_inside_an_open_transaction_it_lasts_until_that_transaction_ends() -> None:
    async with plumbing_schema() as (_schema, pool), pool.acquire() as conn:
        async with conn.transaction():
            await conn.fetchval(f"SELECT 1 FROM {NO_FLUSH_WAIT}")
            assert await conn.fetchval("SHOW synchronous_commit") == "off"
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
