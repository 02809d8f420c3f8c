"""Composition root: create_app(settings) wires the runtime, the rule book, subscribers and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI
from prometheus_client import Counter

from common import topics
from common.bearer import TokenVerifier
from common.service import Metrics, ServiceRuntime, base_app
from rules.config import Settings
from rules.domain.rulebook import Decision
from rules.entrypoints.http import router
from rules.entrypoints.kafka import (
    on_contract_standardized,
    on_customer_push_completed,
    on_erp_customer_pulled,
    on_wechat_customer_captured,
)
from rules.service_layer.decisions import Deps
from rules.service_layer.rulebook_cache import PostgresRuleSource, RuleBookCache

SCHEMA = "rules"
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


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool
    tokens: TokenVerifier
    rulebook: RuleBookCache


def decisions_counter(metrics: Metrics) -> Counter:
    return Counter(
        "rollsync_sync_decisions",
        "Sync decisions made after a customer changed, by matched rule and action",
        ["rule", "action"],
        registry=metrics.registry,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics("rules")
    decisions = decisions_counter(metrics)

    def count(decision: Decision) -> None:
        decisions.labels(decision.rule, decision.action).inc()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = ServiceRuntime("rules", SCHEMA, settings, metrics)
        await rt.open([*CONSUMED, topics.RULES_CUSTOMER_SYNC_REQUESTED])
        try:
            cache = RuleBookCache(PostgresRuleSource(rt.pool))
            deps = Deps(cache, count)
            batch = settings.customer_batch_size
            rt.subscribe(
                topics.TRANSFORM_CONTRACT_STANDARDIZED, CONTRACTS_GROUP, on_contract_standardized(deps)
            )
            rt.subscribe(
                topics.INGEST_WECHAT_CUSTOMER_CAPTURED,
                CAPTURES_GROUP,
                on_wechat_customer_captured(deps),
                max_records=batch,
            )
            rt.subscribe(
                topics.ERP_CUSTOMER_PULLED, PULLS_GROUP, on_erp_customer_pulled(deps), max_records=batch
            )
            rt.subscribe(
                topics.ERP_CUSTOMER_PUSH_COMPLETED,
                PUSH_RESULTS_GROUP,
                on_customer_push_completed(deps),
                max_records=batch,
            )
            secret = settings.token_secret.get_secret_value()
            tokens = TokenVerifier(secret, settings.token_issuer, settings.token_audience)
            app.state.ctx = Context(settings, rt.pool, tokens, cache)
            await rt.start(app)
            yield
        finally:
            await rt.close()

    app = base_app("rules", metrics, lifespan, settings.max_body_bytes)
    app.include_router(router)
    return app
