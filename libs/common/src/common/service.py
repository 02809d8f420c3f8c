"""The parts every service's lifespan opens and closes, in one place (pool, relay, broker, health)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from common.auth_first import AuthFirst
from common.bearer import admin_alternatives
from common.consumer import ApplyBatch, InboxConsumer
from common.db import create_pool
from common.events.catalog import model_of
from common.health import health_router, postgres_check
from common.input_guard import InputGuard
from common.kafka import create_broker, ensure_topics, subscribe_inbox
from common.metrics import Metrics
from common.openapi import document_errors
from common.rate_limit import RateLimiter
from common.received import envelope_decoder
from common.relay import OutboxRelay
from common.retention import Pruner, RetentionPolicy, plumbing_policies
from common.web import BodyLimit, RequestContext, install_error_handlers

if TYPE_CHECKING:
    import asyncpg
    from faststream.kafka import KafkaBroker

    from common.settings import ServiceSettingsMixin


CLOSE_S = 3.0  # the pool's own close, bounded: a connection stuck in a query must not hold the pod


class ServiceRuntime:
    """Open in the lifespan: `await rt.open(topics)`, `rt.subscribe(...)`, `rt.retain(...)`, `await rt.start(app)`,
    `await rt.close()`."""

    def __init__(self, name: str, schema: str, settings: ServiceSettingsMixin, metrics: Metrics) -> None:
        self.name, self.schema, self.settings, self.metrics = name, schema, settings, metrics
        self._pool: asyncpg.Pool | None = None
        self._relay: OutboxRelay | None = None
        self._broker: KafkaBroker | None = None
        self._own_policies: list[RetentionPolicy] = []
        self.pruner: Pruner | None = None
        self._consumers: list[InboxConsumer] = []

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "runtime not opened"
        return self._pool

    async def open(self, topics: list[str], priority_topics: frozenset[str] = frozenset()) -> None:
        await ensure_topics(self.settings.kafka, topics)
        self._pool = await create_pool(self.settings.postgres, self.schema)
        self._relay = OutboxRelay(
            self._pool,
            self.settings.postgres,
            self.settings.kafka,
            self.schema,
            metrics=self.metrics,
            priority_topics=priority_topics,
        )

    def subscribe(
        self,
        topic: str,
        group: str,
        apply: ApplyBatch,
        *,
        max_records: int = 500,
        before_inbox: ApplyBatch | None = None,
        drop_nul: bool = False,
    ) -> None:
        """One inbox-guarded batch subscriber; the consumer group doubles as the inbox consumer name.

        `apply` and `before_inbox` receive `Received[P]`s, P being the topic's contract in the catalog.
        `before_inbox` runs first in each batch's transaction, before the inbox row is written."""
        if self._broker is None:
            self._broker = create_broker(self.settings.kafka, self.name)
        decode = envelope_decoder(model_of(topic), drop_nul=drop_nul)
        consumer = InboxConsumer(
            self.pool,
            self.schema,
            group,
            apply,
            self.settings.retry,
            self.metrics,
            before_inbox,
            decode=decode,
        )
        self._consumers.append(consumer)
        subscribe_inbox(self._broker, topic, group, consumer, self.metrics, max_records=max_records)

    def retain(self, policies: list[RetentionPolicy]) -> None:
        """The service's own tables to prune, besides the plumbing (settings.retention says how often)."""
        self._own_policies = policies

    async def start(self, app: FastAPI) -> None:
        assert self._relay is not None
        retention = self.settings.retention
        self.pruner = Pruner(
            self.pool,
            [*plumbing_policies(retention), *self._own_policies],
            self.metrics,
            interval_s=retention.interval_s,
            batch_size=retention.batch_size,
        )
        app.state.rate_limiter = RateLimiter(self.pool, self.settings.rate_limit)
        await self._relay.start()
        if self._broker is not None:
            await self._broker.start()
        checks = {"postgres": postgres_check(self.pool), "kafka": self._relay.ping}
        app.include_router(health_router(checks, self.metrics))
        self.metrics.on_scrape(self._relay.refresh_metrics)
        self.pruner.start()

    async def close(self) -> None:
        """Consumers first (a retry wait ends at once, a transaction in flight finishes and is acked), then
        the relay publishes what they wrote, then the pool goes."""
        for consumer in self._consumers:
            consumer.stop()
        if self.pruner is not None:
            await self.pruner.stop()
        if self._broker is not None:
            await self._broker.stop()
        if self._relay is not None:
            await self._relay.stop()
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), CLOSE_S)
            except TimeoutError:
                self._pool.terminate()


def base_app(
    name: str,
    metrics: Metrics,
    lifespan: object,
    max_body_bytes: int = 64 * 1024,
    public_paths: frozenset[str] = frozenset(),
) -> FastAPI:
    """The shared request path. Every write route needs a Bearer token, checked before its body is read,
    except `public_paths` (ingest's login)."""
    app = FastAPI(title=f"rollsync {name}", version="0.1.0", lifespan=lifespan)  # type: ignore[arg-type]
    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        return admin_alternatives(plain_openapi())  # in place and idempotent: FastAPI caches the document

    app.openapi = openapi  # type: ignore[method-assign]
    install_error_handlers(app)
    document_errors(app)  # every operation's error answers, with the shared Error body
    app.add_middleware(InputGuard)  # innermost of ours: its 422s carry the request id
    app.add_middleware(AuthFirst, public_paths=public_paths)  # 401 before any body check
    app.add_middleware(RequestContext, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)  # outermost of ours: counts bytes as they arrive
    return app


__all__ = ["Metrics", "ServiceRuntime", "base_app"]
