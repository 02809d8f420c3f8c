"""Builds ingest's handlers with their collaborators bound: units of work, repositories, token keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from common.bearer import TokenVerifier
from ingest.adapters import unit_of_work
from ingest.adapters.clients_repository import PgClientsRepository
from ingest.adapters.retention import retention_policies
from ingest.adapters.tokens import JwtIssuer, SigningKeys
from ingest.entrypoints.context import IngestContext
from ingest.entrypoints.kafka import on_process_changed
from ingest.service_layer import access, batches, captures, employees, progress
from ingest.service_layer.heartbeat import LastSeen, last_seen_gauges

if TYPE_CHECKING:
    import asyncpg

    from common.consumer import ApplyBatch
    from common.metrics import Metrics
    from common.retention import RetentionPolicy
    from ingest.config import Settings
    from ingest.service_layer.ports import UowFactory


@dataclass(frozen=True, slots=True)
class Ingest:
    ctx: IngestContext  # app.state.ctx: what routes use
    on_process_changed: ApplyBatch
    retention: list[RetentionPolicy]
    announce_unannounced: Callable[[], Awaitable[int]]  # a start-up job
    scrape: list[Callable[[], Awaitable[None]]]  # gauges read from the database at scrape time


def bootstrap(settings: Settings, pool: asyncpg.Pool, metrics: Metrics) -> Ingest:
    uow: UowFactory = partial(unit_of_work.begin, pool)
    clients = PgClientsRepository(pool)  # the per-request token check: one read, no transaction
    keys = SigningKeys.from_files(settings.token_signing_key_file, settings.token_published_key_files)
    issuer = JwtIssuer(keys, settings.token_issuer, settings.token_audience, settings.token_ttl_s)
    ctx = IngestContext(
        settings=settings,
        tokens=TokenVerifier(keys.key_set(), settings.token_issuer, settings.token_audience),
        issuer=issuer,
        last_seen=LastSeen(uow, settings.last_seen_every_s),
        login=partial(access.login, clients, issuer),
        token_client=partial(access.token_client, clients),
        revocations=partial(access.token_revocations, clients),
        upload_batch=partial(batches.upload_batch, uow),
        report_progress=partial(progress.report_progress, uow),
        upload_employees=partial(employees.upload_employees, uow),
        capture_customer=partial(captures.capture_customer, uow),
    )
    return Ingest(
        ctx=ctx,
        on_process_changed=on_process_changed(unit_of_work.joined),
        retention=retention_policies(settings.retention),
        announce_unannounced=partial(employees.announce_unannounced, uow, "ingest-start"),
        scrape=[last_seen_gauges(uow, metrics), employees.flagged_reporter_gauge(uow, metrics)],
    )
