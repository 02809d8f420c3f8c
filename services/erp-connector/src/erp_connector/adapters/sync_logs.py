"""erp_sync_logs: one row per pull or push run, and the failure counts the status route shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from erp_connector.adapters.sql_values import as_json

if TYPE_CHECKING:
    import asyncpg

DIRECTIONS = {"pull": "erp_to_local", "push": "local_to_erp"}


class PostgresSyncLogs:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, sync_type: str, result: str, detail: dict[str, Any]) -> None:
        await self._conn.execute(
            "INSERT INTO erp_sync_logs (sync_direction, sync_type, sync_result, detail) VALUES ($1, $2, $3, $4::jsonb)",
            DIRECTIONS[sync_type],
            sync_type,
            result,
            as_json(detail),
        )

    async def last_syncs(self) -> dict[str, Any]:
        rows = await self._conn.fetch(
            "SELECT DISTINCT ON (sync_type) sync_type, sync_result, synced_at, detail FROM erp_sync_logs"
            " ORDER BY sync_type, synced_at DESC, id DESC"
        )
        last = {
            r["sync_type"]: {
                "at": r["synced_at"].isoformat(),
                "result": r["sync_result"],
                **orjson.loads(r["detail"]),
            }
            for r in rows
        }
        return {"last_pull": last.get("pull"), "last_push": last.get("push")}

    async def failures_last_hour(self) -> dict[str, int]:
        row = await self._conn.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM erp_sync_logs
                WHERE sync_result = 'failed' AND synced_at > now() - interval '1 hour') AS runs,
              (SELECT count(*) FROM erp_push_attempts
                WHERE outcome = 'dead' AND at > now() - interval '1 hour') AS pushes
            """
        )
        assert row is not None
        return {"runs": int(row["runs"]), "pushes": int(row["pushes"])}
