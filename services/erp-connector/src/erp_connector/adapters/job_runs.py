"""When each scheduled job last ran, kept in `erp_job_runs` so the schedule survives restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg


class PostgresJobRuns:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def seconds_since_last(self, jobs: list[str]) -> dict[str, float]:
        """Per job, seconds since it last started (or, never run, since it was first scheduled), by the
        database's clock, so replicas and restarts agree."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO erp_job_runs (job) SELECT unnest($1::text[]) ON CONFLICT (job) DO NOTHING", jobs
            )
            rows = await conn.fetch(
                "SELECT job, extract(epoch FROM now() - coalesce(last_started_at, scheduled_since))::float8"
                " AS ago FROM erp_job_runs WHERE job = any($1::text[])",
                jobs,
            )
        return {r["job"]: max(0.0, float(r["ago"])) for r in rows}

    async def started(self, job: str) -> None:
        await self._pool.execute(
            "INSERT INTO erp_job_runs (job, last_started_at) VALUES ($1, now())"
            " ON CONFLICT (job) DO UPDATE SET last_started_at = now()",
            job,
        )
