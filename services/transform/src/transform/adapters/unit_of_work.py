"""transform's unit of work: one asyncpg transaction and the repositories on its connection (common.uow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.uow import PgUnitOfWork
from transform.adapters.catalog_repository import PostgresCatalog
from transform.adapters.configuration_repository import PostgresConfiguration
from transform.adapters.employees_repository import PostgresEmployees
from transform.adapters.feed import PostgresFeed
from transform.adapters.lines_repository import PostgresLines
from transform.adapters.locks import PostgresLocks
from transform.adapters.progress_repository import PostgresProgress
from transform.adapters.schema import SCHEMA

if TYPE_CHECKING:
    import asyncpg


class PostgresUnitOfWork(PgUnitOfWork):
    """transform.service_layer.ports.UnitOfWork: `begin(pool)` for its own transaction, `joined(conn)` for the
    inbox consumer's."""

    schema = SCHEMA
    lines: PostgresLines
    progress: PostgresProgress
    feed: PostgresFeed
    locks: PostgresLocks
    configuration: PostgresConfiguration
    catalog: PostgresCatalog
    employees: PostgresEmployees

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.lines = PostgresLines(conn)
        self.progress = PostgresProgress(conn)
        self.feed = PostgresFeed(conn)
        self.locks = PostgresLocks(conn)
        self.configuration = PostgresConfiguration(conn)
        self.catalog = PostgresCatalog(conn)
        self.employees = PostgresEmployees(conn)

    async def commit(self) -> None:
        await super().commit()  # the outbox rows
        # Last: from its insert until this transaction ends, every other feed writer waits (migration 0052).
        await self.feed.flush()
