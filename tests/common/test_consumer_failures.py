"""How the inbox consumer tells an outage from a message's own failure, on a real PostgreSQL (DELIVERY.md §6).

An outage (the database does not answer) is waited out without spending attempts; anything else that fails
while the database answers - a query timeout, a connection the message itself kills - spends an attempt, so
a slow or connection-killing poison message ends in the DLQ instead of blocking its partition forever.
The consumer's own pool goes through a TCP proxy the tests cut, so the outage is a real one for it alone.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import pytest

from common.consumer import InboxConsumer
from common.delivery import Delivery, PermanentError
from common.metrics import Metrics
from common.settings import RetrySettings
from tests.support.schemas import plumbing_schema
from tests.support.stack import PG_PORT
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration
FAST = RetrySettings(max_attempts=3, base_delay_s=0.001, max_delay_s=0.01)
NAME = "failure-test"
Apply = Callable[[asyncpg.Connection, list[Delivery]], Awaitable[None]]


@dataclass
class Record:
    value: bytes
    offset: int = 0
    topic: str = "t.thing-happened.v1"
    partition: int = 0
    key: bytes | None = b"k"
    event_id: str = ""

    def __post_init__(self) -> None:
        self.event_id = self.event_id or str(uuid.uuid4())

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [("event_id", self.event_id.encode())]


@dataclass
class Rig:
    schema: str
    admin: asyncpg.Pool  # direct: the test's own view, never cut
    pool: asyncpg.Pool  # the consumer's, through the proxy
    proxy: TcpProxy
    cut_on_release: bool = False

    def consumer(self, apply: Apply) -> InboxConsumer:
        return InboxConsumer(self.pool, self.schema, NAME, apply, FAST, Metrics("test"))

    async def attempts(self, record: Record) -> int | None:
        value = await self.admin.fetchval(
            "SELECT attempts FROM inbox_attempts WHERE consumer = $1 AND event_id = $2",
            NAME,
            uuid.UUID(record.event_id),
        )
        return None if value is None else int(value)

    async def dead_letter_headers(self) -> list[dict[str, str]]:
        rows = await self.admin.fetch("SELECT headers FROM outbox WHERE topic LIKE '%.dlq'")
        return [orjson.loads(r["headers"]) for r in rows]

    async def restore_after(self, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await self.proxy.restore()


@asynccontextmanager
async def rig() -> AsyncIterator[Rig]:
    async with plumbing_schema() as (schema, admin):
        await admin.execute("CREATE TABLE effects (value bytea NOT NULL)")
        proxy = await TcpProxy("127.0.0.1", PG_PORT).start()
        holder: list[Rig] = []

        async def reset(_conn: asyncpg.Connection) -> None:
            # Runs as a connection goes back to the pool, i.e. just after the transaction ended.
            if holder and holder[0].cut_on_release:
                holder[0].cut_on_release = False
                await proxy.cut()

        pool = await asyncpg.create_pool(
            f"postgresql://rollsync_admin@127.0.0.1:{proxy.port}/rollsync",
            min_size=1,
            max_size=3,
            reset=reset,
            server_settings={"search_path": schema},
        )
        assert pool is not None
        holder.append(Rig(schema, admin, pool, proxy))
        try:
            yield holder[0]
        finally:
            pool.terminate()
            await proxy.close()


async def _effects(admin: asyncpg.Pool) -> list[bytes]:
    return [bytes(r["value"]) for r in await admin.fetch("SELECT value FROM effects ORDER BY value")]


async def _insert(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
    await conn.executemany("INSERT INTO effects (value) VALUES ($1)", [(d.value,) for d in batch])


async def test_a_query_timeout_while_the_database_answers_spends_attempts_then_dead_letters() -> None:
    """A slow poison message: each try times out. The database answers, so it is no outage."""
    async with rig() as r:

        async def slow(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
            await conn.execute("SELECT pg_sleep(5)", timeout=0.05)

        record = Record(b"slow")
        await asyncio.wait_for(r.consumer(slow).handle([record]), 30)
        assert await r.attempts(record) == FAST.max_attempts
        [headers] = await r.dead_letter_headers()
        assert headers["dlq-error-class"] == "TimeoutError"
        assert headers["dlq-attempts"] == str(FAST.max_attempts)


@pytest.mark.parametrize("how", ["terminate", "close"])
async def test_a_message_that_kills_its_own_connection_is_bounded(how: str) -> None:
    """AdminShutdown / InterfaceError on a dead connection, while the server itself is fine."""
    async with rig() as r:

        async def kill(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
            if how == "terminate":
                await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            else:
                await conn.close()
                await conn.execute("SELECT 1")

        record = Record(b"killer")
        await asyncio.wait_for(r.consumer(kill).handle([record]), 30)
        assert await r.attempts(record) == FAST.max_attempts
        assert len(await r.dead_letter_headers()) == 1
        assert await _effects(r.admin) == []


async def test_an_outage_spends_no_attempt_and_the_message_applies_after_it() -> None:
    async with rig() as r:
        calls = 0

        async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                await r.proxy.cut()  # the database goes away in the middle of the transaction
            await _insert(conn, batch)

        record = Record(b"a")
        restore = asyncio.create_task(r.restore_after(1.5))
        started = time.monotonic()
        await asyncio.wait_for(r.consumer(apply).handle([record]), 60)
        await restore
        assert time.monotonic() - started >= 1.5  # it waited for the database, it did not give up
        assert await _effects(r.admin) == [b"a"]
        assert await r.attempts(record) is None  # the outage cost the message nothing
        assert await r.dead_letter_headers() == []


async def test_a_rejection_followed_by_an_outage_waits_then_dead_letters() -> None:
    """The database goes away right after the transaction that rejected the message ended."""
    async with rig() as r:

        async def reject(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
            r.cut_on_release = True
            raise PermanentError("not a valid thing")

        restore = asyncio.create_task(r.restore_after(1.5))
        await asyncio.wait_for(r.consumer(reject).handle([Record(b"bad")]), 60)
        await restore
        [headers] = await r.dead_letter_headers()
        assert headers["dlq-error-class"] == "PermanentError"
        assert headers["dlq-attempts"] == "1"


async def test_input_with_nul_characters_is_dead_lettered_not_stuck() -> None:
    """PostgreSQL text and jsonb refuse NUL; the DLQ row must still be written (value bytes kept as is)."""
    async with rig() as r:

        async def reject(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
            raise PermanentError("bad \x00 input")

        record: Any = Record(b"v\x00", key=b"k\x00ey")
        await asyncio.wait_for(r.consumer(reject).handle([record]), 30)
        rows = await r.admin.fetch("SELECT key, payload FROM outbox WHERE topic LIKE '%.dlq'")
        assert [bytes(row["payload"]) for row in rows] == [b"v\x00"]
        assert "\x00" not in rows[0]["key"]
