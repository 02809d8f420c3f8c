"""`rollsync_sync_decisions_total`, counted only once the decision's transaction has committed.

A decision is made inside the consumer's transaction, which may roll back and run again (a deadlock,
a lost connection, even a failed COMMIT): counting at decision time counted every try. Each decision
is held under its transaction id until PostgreSQL says that transaction committed (then it counts)
or aborted (then it is dropped); that is asked when /metrics is scraped, and every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Tally
from typing import TYPE_CHECKING

import asyncpg
from prometheus_client import Counter

if TYPE_CHECKING:
    from rules.domain.rulebook import Decision

log = logging.getLogger(__name__)


class DecisionCounter:
    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._pending: dict[str, Tally[tuple[str, str]]] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def record(self, decision: Decision, txid: str) -> None:
        """Called in the transaction that stored the decision; `txid` is its pg_current_xact_id()."""
        self._pending.setdefault(txid, Tally())[(decision.rule, decision.action)] += 1

    async def resolve(self, pool: asyncpg.Pool) -> None:
        if not self._pending:
            return
        rows = await pool.fetch(
            "SELECT x, pg_xact_status(x::xid8) AS status FROM unnest($1::text[]) AS x", list(self._pending)
        )
        for r in rows:
            if r["status"] == "in progress":
                continue
            tally = self._pending.pop(r["x"])
            if r["status"] != "committed":  # aborted, or too old to know (then never counted twice)
                continue
            for (rule, action), n in tally.items():
                self._counter.labels(rule, action).inc(n)

    async def resolve_every(self, pool: asyncpg.Pool, seconds: float) -> None:
        """Keep the pending set small between scrapes (runs until cancelled)."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.resolve(pool)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning(
                    "decision counter: cannot ask PostgreSQL yet (%s)", exc, extra={"job": "decision_counter"}
                )
