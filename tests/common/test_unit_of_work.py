"""The unit of work's promise on the real PostgreSQL: nothing is written unless `commit()` was called."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel

from common.events.envelope import Envelope
from common.uow import PgUnitOfWork, UncommittedWorkError
from tests.support.schemas import plumbing_schema

if TYPE_CHECKING:
    import asyncpg

pytestmark = pytest.mark.integration


class Demo(PgUnitOfWork):
    schema = ""  # set per test: plumbing_schema() makes a fresh one

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.bound_to = conn


class Demoed(BaseModel):
    n: int


def _event() -> Envelope[Any]:
    return Envelope[Demoed](event_type="Demoed", source="test", correlation_id="t", payload=Demoed(n=1))


async def _outbox_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox"))


async def test_begin_commits_the_outbox_only_when_told() -> None:
    async with plumbing_schema() as (schema, pool):
        Demo.schema = schema
        async with Demo.begin(pool) as uow:
            uow.outbox.add("t.demo.v1", "k", _event())
        assert await _outbox_count(pool) == 0  # no commit(): rolled back
        async with Demo.begin(pool) as uow:
            assert uow.bound_to is uow.conn
            uow.outbox.add("t.demo.v1", "k", _event())
            await uow.commit()
        assert await _outbox_count(pool) == 1


async def test_begin_rolls_back_when_the_handler_raises_after_commit() -> None:
    async with plumbing_schema() as (schema, pool):
        Demo.schema = schema
        with pytest.raises(RuntimeError):
            async with Demo.begin(pool) as uow:
                uow.outbox.add("t.demo.v1", "k", _event())
                await uow.commit()
                raise RuntimeError("a later step failed")
        assert await _outbox_count(pool) == 0


async def test_a_joined_unit_left_without_commit_is_an_error() -> None:
    async with plumbing_schema() as (schema, pool):
        Demo.schema = schema
        with pytest.raises(UncommittedWorkError):
            async with pool.acquire() as conn, conn.transaction(), Demo.joined(conn) as uow:
                uow.outbox.add("t.demo.v1", "k", _event())
        assert await _outbox_count(pool) == 0
        async with pool.acquire() as conn, conn.transaction(), Demo.joined(conn) as uow:
            uow.outbox.add("t.demo.v1", str(uuid.uuid4()), _event())
            await uow.commit()
        assert await _outbox_count(pool) == 1
