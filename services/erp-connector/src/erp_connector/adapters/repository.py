"""SQL for the erp schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg


async def last_syncs(pool: asyncpg.Pool) -> dict[str, Any]:
    rows = await pool.fetch(
        "SELECT DISTINCT ON (sync_type) sync_type, sync_result, synced_at FROM erp_sync_logs"
        " ORDER BY sync_type, synced_at DESC"
    )
    failures = await pool.fetchval(
        "SELECT count(*) FROM erp_sync_logs WHERE sync_result = 'failed' AND synced_at > now() - interval '1 hour'"
    )
    last = {r["sync_type"]: {"result": r["sync_result"], "at": r["synced_at"].isoformat()} for r in rows}
    return {"last_pull": last.get("pull"), "last_push": last.get("push"), "failures_last_hour": failures}
