"""Unit of work over one asyncpg connection and transaction (STYLE.md §7; Cosmic Python ch. 6).

A service subclasses `PgUnitOfWork` and builds its repositories on `self.conn` in `_bind`. The service
layer sees only the service's port (a Protocol), so handler tests run against a fake in milliseconds.

Two ways in, one contract for the handler ("nothing happened unless I called `commit()`"):

- `Uow.begin(pool)`: a connection and a transaction of its own, rolled back unless `commit()` was called
  (HTTP requests, schedulers).
- `Uow.joined(conn)`: the transaction the inbox consumer already opened, so the inbox row, the state change
  and the outbox rows commit together (DELIVERY.md §4). The consumer commits; a handler that returns
  without `commit()` is a bug, reported as an error so the consumer retries instead of recording the event
  as applied with nothing done.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from common import outbox

if TYPE_CHECKING:
    from types import TracebackType

    import asyncpg

    from common.events.envelope import Envelope


class OutboxPort(Protocol):
    """Integration events to publish once the unit of work commits."""

    def add(self, topic: str, key: str, envelope: Envelope[Any]) -> None: ...


class UnitOfWorkPort(Protocol):
    """What every service's unit of work offers; a service's port adds its repositories as properties."""

    @property
    def outbox(self) -> OutboxPort: ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class UncommittedWorkError(RuntimeError):
    """A handler left a joined unit of work without `commit()`."""


class PgOutbox:
    """Collects rows and writes them in one statement at commit (COPY for a bulk import)."""

    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self._conn, self._schema = conn, schema
        self.rows: list[outbox.OutboxRow] = []

    def add(self, topic: str, key: str, envelope: Envelope[Any]) -> None:
        self.rows.append(outbox.row_for(topic, key, envelope))

    async def flush(self) -> None:
        rows, self.rows = self.rows, []
        await outbox.add(self._conn, self._schema, rows)


class PgUnitOfWork:
    schema: str  # the service's one schema constant, set by the subclass

    def __init__(self) -> None:
        self._committed = False

    @classmethod
    def begin(cls, pool: asyncpg.Pool) -> _Owned[Self]:
        return _Owned(cls, pool)

    @classmethod
    def joined(cls, conn: asyncpg.Connection) -> Self:
        uow = cls()
        uow._bind_all(conn)
        return uow

    def _bind_all(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.outbox = PgOutbox(conn, self.schema)
        self._bind(conn)

    def _bind(self, conn: asyncpg.Connection) -> None:
        """Build the service's repositories on `conn`."""

    async def commit(self) -> None:
        await self.outbox.flush()
        self._committed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None and not self._committed:
            raise UncommittedWorkError(f"{type(self).__name__}: handler returned without commit()")


U = TypeVar("U", bound=PgUnitOfWork)


class _Owned(Generic[U]):
    """`async with Uow.begin(pool) as uow:` — acquire, begin; commit only what `uow.commit()` marked."""

    def __init__(self, cls: type[U], pool: asyncpg.Pool) -> None:
        self._cls, self._pool = cls, pool
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> U:
        conn = await self._stack.enter_async_context(self._pool.acquire())
        self._tx = conn.transaction()
        await self._tx.start()
        self._uow = self._cls()
        self._uow._bind_all(conn)
        return self._uow

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None and self._uow._committed:
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self._stack.aclose()
