"""ingest's unit of work on asyncpg: the repositories of one transaction, and the outbox written at commit."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

from common.uow import PgUnitOfWork
from ingest.adapters.clients_repository import PgClientsRepository
from ingest.adapters.customers_repository import PgCustomersRepository
from ingest.adapters.employees_repository import PgEmployeesRepository
from ingest.adapters.idempotency_repository import PgIdempotencyRepository
from ingest.adapters.lines_repository import PgLinesRepository
from ingest.adapters.process_catalog_repository import PgProcessCatalogRepository
from ingest.adapters.progress_repository import PgProgressRepository
from ingest.adapters.schema import SCHEMA
from ingest.service_layer.errors import DeadlockError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class PgIngestUnitOfWork(PgUnitOfWork):
    schema = SCHEMA

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.clients = PgClientsRepository(conn)
        self.idempotency = PgIdempotencyRepository(conn)
        self.lines = PgLinesRepository(conn)
        self.progress = PgProgressRepository(conn)
        self.employees = PgEmployeesRepository(conn)
        self.processes = PgProcessCatalogRepository(conn)
        self.customers = PgCustomersRepository(conn)


@asynccontextmanager
async def begin(pool: asyncpg.Pool) -> AsyncIterator[PgIngestUnitOfWork]:
    """A unit of work on a connection and transaction of its own. PostgreSQL's deadlock abort becomes the
    service layer's DeadlockError: the whole transaction was rolled back, so running it again is safe."""
    try:
        async with PgIngestUnitOfWork.begin(pool) as uow:
            yield uow
    except asyncpg.DeadlockDetectedError as exc:
        raise DeadlockError(str(exc)) from exc


def joined(conn: asyncpg.Connection) -> PgIngestUnitOfWork:
    """A unit of work inside the inbox consumer's transaction (the consumer commits)."""
    return PgIngestUnitOfWork.joined(conn)
