"""Nothing grows without bound: delete rows past their age, in bounded batches, on a timer.

Plumbing only. Each service declares its policies (table names are that service's allow-listed constants,
the predicate is a constant SQL fragment of that service) and the runtime runs them every interval:

    rt.retain([RetentionPolicy("change_feed", "recorded_at", timedelta(days=30), predicate=...)])

A batch is one short transaction (`LIMIT batch_size` rows), so a large backlog never holds locks for long
and never stalls a writer or the pending-updates feed; the loop ends when a batch comes back short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from common.migrations import ident

if TYPE_CHECKING:
    import asyncpg

    from common.metrics import Metrics
    from common.settings import RetentionSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Rows of `table` whose `column` is older than `keep` (and that match `predicate`) may go.

    `predicate` is a constant SQL condition on the row, aliased `t`; it is how a policy says what must never
    go (e.g. `t.outcome IS NOT NULL`: a queue row still pending stays whatever its age).
    """

    table: str
    column: str
    keep: timedelta
    predicate: str = "true"

    def __post_init__(self) -> None:
        for name in (self.table, self.column):
            ident(name)  # refuses anything but a plain identifier
        if self.keep <= timedelta(0):
            raise ValueError(f"retention for {self.table} must be positive")

    def delete_sql(self) -> str:
        t, c = ident(self.table), ident(self.column)
        # ctid picks a bounded batch; the outer WHERE re-checks age and predicate, so a row changed in the
        # meantime (re-read by EvalPlanQual under READ COMMITTED) is deleted only if it still qualifies.
        return (
            f"DELETE FROM {t} AS t WHERE t.ctid = any(ARRAY(SELECT t.ctid FROM {t} AS t"  # noqa: S608
            f" WHERE t.{c} < now() - $1::interval AND ({self.predicate}) LIMIT $2))"
            f" AND t.{c} < now() - $1::interval AND ({self.predicate})"
        )


RATE_WINDOWS_KEPT = timedelta(hours=48)  # common.rate_limit: a day window ends 24 h after it starts


def plumbing_policies(settings: RetentionSettings) -> list[RetentionPolicy]:
    """The delivery tables every schema has (outbox_dead is never pruned: an operator empties it)."""
    inbox = timedelta(days=settings.inbox_days)
    return [
        RetentionPolicy(
            "outbox", "sent_at", timedelta(days=settings.outbox_sent_days), "t.sent_at IS NOT NULL"
        ),
        RetentionPolicy("inbox", "received_at", inbox),
        RetentionPolicy("inbox_attempts", "last_failed_at", inbox),
        RetentionPolicy("rate_limit_hits", "window_start", RATE_WINDOWS_KEPT),
    ]


class Pruner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        policies: list[RetentionPolicy],
        metrics: Metrics,
        *,
        interval_s: float,
        batch_size: int,
    ) -> None:
        tables = [p.table for p in policies]
        if len(set(tables)) != len(tables):
            raise ValueError(f"one retention policy per table: {tables}")
        self._pool, self._policies = pool, policies
        self._interval, self._batch = interval_s, batch_size
        self._pruned = metrics.retention_rows_pruned  # rollsync_retention_rows_pruned_total{table}
        self._failed = metrics.retention_runs_failed  # rollsync_retention_runs_failed_total
        self._task: asyncio.Task[None] | None = None

    async def prune_once(self) -> dict[str, int]:
        """Every policy once, each until a batch comes back short. Returns rows deleted per table."""
        return {p.table: await self._prune(p) for p in self._policies}

    async def _prune(self, policy: RetentionPolicy) -> int:
        sql, total, started = policy.delete_sql(), 0, time.monotonic()
        while True:
            status = await self._pool.execute(sql, policy.keep, self._batch)
            n = int(status.split()[-1])
            total += n
            self._pruned.labels(policy.table).inc(n)
            if n < self._batch:
                break
            await asyncio.sleep(0)
        if total:
            log.info(
                "retention: %s rows of %s older than %s pruned in %.2fs",
                total,
                policy.table,
                policy.keep,
                time.monotonic() - started,
            )
        return total

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.prune_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next round tries again; nothing is lost by waiting
                self._failed.inc()
                log.warning("retention: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._interval)
