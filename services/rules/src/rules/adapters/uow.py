"""rules' unit of work on asyncpg: customers, candidates, the rule book's edits and re-sync requests in one
transaction with the outbox (`common.uow`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.uow import PgUnitOfWork
from rules.adapters.customers import PostgresCustomerRepository
from rules.adapters.repository import PostgresCandidateRepository, PostgresResyncRequests
from rules.adapters.rulebook_store import PostgresRuleStore
from rules.adapters.schema import SCHEMA

if TYPE_CHECKING:
    import asyncpg


class RulesUnitOfWork(PgUnitOfWork):
    schema = SCHEMA
    customers: PostgresCustomerRepository
    candidates: PostgresCandidateRepository
    rulebook: PostgresRuleStore
    resync_requests: PostgresResyncRequests

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.customers = PostgresCustomerRepository(conn)
        self.candidates = PostgresCandidateRepository(conn)
        self.rulebook = PostgresRuleStore(conn)
        self.resync_requests = PostgresResyncRequests(conn)
