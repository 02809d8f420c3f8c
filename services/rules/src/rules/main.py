"""Composition root: create_app(settings) wires routes, subscribers and the lifespan around `bootstrap`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common import topics
from common.bearer import remote_verifier
from common.service import Metrics, ServiceRuntime, base_app
from rules import bootstrap
from rules.adapters.retention import retention_policies
from rules.adapters.schema import SCHEMA
from rules.config import Settings
from rules.entrypoints.http import router
from rules.entrypoints.kafka import (
    DROP_NUL,
    on_contract_standardized,
    on_customer_push_completed,
    on_erp_customer_pulled,
    on_wechat_customer_captured,
)
from rules.service_layer import resync

# One consumer group each: a burst of pulls never delays captures or push results.
CONTRACTS_GROUP = "rules-contracts"
CAPTURES_GROUP = "rules-wechat-captures"
PULLS_GROUP = "rules-erp-pulls"
PUSH_RESULTS_GROUP = "rules-push-results"
CONSUMED = (
    topics.TRANSFORM_CONTRACT_STANDARDIZED,
    topics.INGEST_WECHAT_CUSTOMER_CAPTURED,
    topics.ERP_CUSTOMER_PULLED,
    topics.ERP_CUSTOMER_PUSH_COMPLETED,
)
DECISIONS_RESOLVE_S = 5.0


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("rules")
    decisions = bootstrap.decisions_counter(metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("rules", SCHEMA, settings, metrics)
        await rt.open([*CONSUMED, topics.RULES_CUSTOMER_SYNC_REQUESTED])
        resolver: asyncio.Task[None] | None = None
        resyncs: asyncio.Task[None] | None = None
        tokens = remote_verifier(settings, metrics)
        try:
            ctx = bootstrap.context(rt.pool, tokens, decisions.record)
            deps, uow_on = ctx.deps, bootstrap.uow_on
            bootstrap.count_decisions(metrics, decisions, rt.pool)
            resolver = asyncio.create_task(decisions.resolve_every(rt.pool, DECISIONS_RESOLVE_S))
            batch = settings.customer_batch_size
            rt.subscribe(
                topics.TRANSFORM_CONTRACT_STANDARDIZED,
                CONTRACTS_GROUP,
                on_contract_standardized(deps, uow_on),
                drop_nul=DROP_NUL,
            )
            rt.subscribe(
                topics.INGEST_WECHAT_CUSTOMER_CAPTURED,
                CAPTURES_GROUP,
                on_wechat_customer_captured(deps, uow_on),
                drop_nul=DROP_NUL,
                max_records=batch,
            )
            rt.subscribe(
                topics.ERP_CUSTOMER_PULLED,
                PULLS_GROUP,
                on_erp_customer_pulled(deps, uow_on),
                drop_nul=DROP_NUL,
                max_records=batch,
            )
            rt.subscribe(
                topics.ERP_CUSTOMER_PUSH_COMPLETED,
                PUSH_RESULTS_GROUP,
                on_customer_push_completed(deps, uow_on),
                drop_nul=DROP_NUL,
                max_records=batch,
            )
            tokens.start()
            app.state.ctx = ctx
            rt.retain(retention_policies(settings.retention))
            await rt.start(app)
            resyncs = asyncio.create_task(resync.work_off_every(ctx.uow, deps, settings.resync_poll_s))
            yield
        finally:
            for task in (resolver, resyncs):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await tokens.close()
            await rt.close()

    app = base_app("rules", metrics, lifespan, settings.max_body_bytes)
    app.include_router(router)
    return app
