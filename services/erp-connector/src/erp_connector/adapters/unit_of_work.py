"""erp-connector's unit of work: the repositories of schema erp on one connection and transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.uow import PgUnitOfWork
from erp_connector.adapters.control import PostgresControlRepository
from erp_connector.adapters.dead_letters import PostgresDeadLetters, PostgresInbox
from erp_connector.adapters.hashes import PostgresHashes
from erp_connector.adapters.push_queue import PostgresPushQueue
from erp_connector.adapters.schema import SCHEMA
from erp_connector.adapters.sync_logs import PostgresSyncLogs

if TYPE_CHECKING:
    import asyncpg


class PostgresUnitOfWork(PgUnitOfWork):
    schema = SCHEMA

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.control = PostgresControlRepository(conn)
        self.sync_logs = PostgresSyncLogs(conn)
        self.hashes = PostgresHashes(conn)
        self.pushes = PostgresPushQueue(conn)
        self.dead_letters = PostgresDeadLetters(self.outbox)
        self.inbox = PostgresInbox(conn)


def unit_of_work_class(schema: str = SCHEMA) -> type[PostgresUnitOfWork]:
    """The class for `schema`: SCHEMA in production, a throwaway schema in tests and benchmarks."""
    if schema == SCHEMA:
        return PostgresUnitOfWork
    return type(f"PostgresUnitOfWork_{schema}", (PostgresUnitOfWork,), {"schema": schema})
