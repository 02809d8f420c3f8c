"""Builds transform's collaborators from settings and the pool: units of work, caches, readers, subscribers.

main.create_app only wires what this returns into routes, subscribers and the lifespan; tests build the same
pieces (or fakes of the service layer's ports) without a running app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from prometheus_client import Gauge

from common import topics
from transform.adapters import queries
from transform.adapters.feed import PostgresFeedReader, seconds_since_last_change
from transform.adapters.locks import PostgresLocks
from transform.adapters.reconcile_queries import PostgresReconciliation
from transform.adapters.unit_of_work import PostgresUnitOfWork
from transform.entrypoints.context import Context
from transform.entrypoints.kafka import (
    Apply,
    contracts_locked_first,
    on_employee_changed,
    on_hetong_row_changed,
    on_progress_reported,
)
from transform.service_layer.catalog import announce_unannounced
from transform.service_layer.configuration import ConfigurationCache
from transform.service_layer.consistency_schedule import ConsistencySchedule

if TYPE_CHECKING:
    import asyncpg

    from common.bearer import TokenVerifier
    from common.service import Metrics
    from transform.config import Settings
    from transform.service_layer.ports import UowFactory

LINES_GROUP = "transform-lines"
PROGRESS_GROUP = "transform-progress"  # its own consumer: a history import never delays progress
EMPLOYEES_GROUP = "transform-employees"


def uow_on(conn: asyncpg.Connection) -> PostgresUnitOfWork:
    """The unit of work inside the inbox consumer's transaction (the consumer commits it)."""
    return PostgresUnitOfWork.joined(conn)


def locks_on(conn: asyncpg.Connection) -> PostgresLocks:
    """For the consumer's before_inbox hook, which runs on the raw connection before the inbox row."""
    return PostgresLocks(conn)


def uow_factory(pool: asyncpg.Pool) -> UowFactory:
    return partial(PostgresUnitOfWork.begin, pool)


def context(settings: Settings, pool: asyncpg.Pool, tokens: TokenVerifier) -> Context:
    start = uow_factory(pool)
    config = ConfigurationCache(start, settings.config_reload_s)
    return Context(
        settings, pool, tokens, config, start, PostgresFeedReader(pool), PostgresReconciliation(pool)
    )


async def prepare(ctx: Context) -> None:
    """Before the consumers start: the shipped configuration (first start) and the catalogue's seed events."""
    await ctx.config.seed_defaults()
    await announce_unannounced(ctx.start, "transform-start")  # the catalogue's seed rows, once


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str
    group: str
    apply: Apply
    max_records: int
    before_inbox: Apply | None = None


def subscriptions(settings: Settings, config: ConfigurationCache) -> list[Subscription]:
    """The consumers of this process's role: `lines` (lines and employees), `progress`, or `all`."""
    subs = []
    if settings.role in ("all", "lines"):
        subs += [
            Subscription(
                topics.INGEST_HETONG_ROW_CHANGED,
                LINES_GROUP,
                on_hetong_row_changed(config, uow_on),
                settings.import_batch_size,
                contracts_locked_first(locks_on),
            ),
            Subscription(topics.INGEST_EMPLOYEE_CHANGED, EMPLOYEES_GROUP, on_employee_changed(uow_on), 500),
        ]
    if settings.role in ("all", "progress"):
        subs.append(
            Subscription(
                topics.INGEST_PROGRESS_REPORTED,
                PROGRESS_GROUP,
                on_progress_reported(config, uow_on),
                settings.progress_batch_size,
                contracts_locked_first(locks_on),
            )
        )
    return subs


def consistency_schedule(settings: Settings, pool: asyncpg.Pool, metrics: Metrics) -> ConsistencySchedule:
    return ConsistencySchedule(
        lambda sample: queries.consistency(pool, sample),
        metrics.registry,
        settings.consistency_check_s,
        settings.consistency_first_check_s,
    )


def feed_freshness(pool: asyncpg.Pool, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """rollsync_feed_freshness_seconds: now − when the pending-updates feed last recorded a change."""
    gauge = Gauge(
        "rollsync_feed_freshness_seconds",
        "Seconds since the pending-updates feed last changed",
        registry=metrics.registry,
    )

    async def refresh() -> None:
        gauge.set(await seconds_since_last_change(pool))

    return refresh
