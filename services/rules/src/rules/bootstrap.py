"""Builds rules' collaborators from a pool: units of work, the rule book, the read side and the decision path.

`main.create_app` wires what this returns into routes, subscribers and the lifespan; tests build the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter

from rules.adapters.decision_metrics import DecisionCounter
from rules.adapters.queries import PostgresCustomerReads
from rules.adapters.rulebook_store import PostgresRuleSource
from rules.adapters.uow import RulesUnitOfWork
from rules.entrypoints.context import Context
from rules.service_layer.decisions import Deps
from rules.service_layer.rulebook_cache import RuleBookCache

if TYPE_CHECKING:
    from collections.abc import Callable

    import asyncpg

    from common.bearer import TokenVerifier
    from common.service import Metrics
    from rules.domain.rulebook import Decision
    from rules.service_layer.ports import UnitOfWorkFactory


def uow_on(conn: asyncpg.Connection) -> RulesUnitOfWork:
    """The unit of work inside the inbox consumer's transaction (the consumer commits)."""
    return RulesUnitOfWork.joined(conn)


def uow_factory(pool: asyncpg.Pool) -> UnitOfWorkFactory:
    """A unit of work with a connection and transaction of its own, per call."""
    return lambda: RulesUnitOfWork.begin(pool)


def context(
    pool: asyncpg.Pool, tokens: TokenVerifier, on_decision: Callable[[Decision, str], None] | None = None
) -> Context:
    rulebook = RuleBookCache(PostgresRuleSource(pool))
    deps = Deps(rulebook, on_decision) if on_decision is not None else Deps(rulebook)
    return Context(tokens, rulebook, deps, uow_factory(pool), PostgresCustomerReads(pool))


def decisions_counter(metrics: Metrics) -> DecisionCounter:
    """Decisions count once their transaction committed: resolved at each scrape (and see the lifespan)."""
    return DecisionCounter(
        Counter(
            "rollsync_sync_decisions",
            "Sync decisions made after a customer changed (committed), by matched rule and action",
            ["rule", "action"],
            registry=metrics.registry,
        )
    )


def count_decisions(metrics: Metrics, decisions: DecisionCounter, pool: asyncpg.Pool) -> None:
    metrics.on_scrape(lambda: decisions.resolve(pool))
