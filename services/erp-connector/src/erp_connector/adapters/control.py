"""erp_connector_state: the run state (paused, stopped on credentials) that survives restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from erp_connector.domain.control import ControlState

if TYPE_CHECKING:
    import asyncpg


class PostgresControlRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def load(self) -> tuple[ControlState, str | None]:
        row = await self._conn.fetchrow(
            "SELECT paused, stopped_auth, reason, credentials_fingerprint FROM erp_connector_state WHERE id = 1"
        )
        if row is None:
            return ControlState(), None
        return ControlState(row["paused"], row["stopped_auth"], row["reason"]), row["credentials_fingerprint"]

    async def save(self, state: ControlState, fingerprint: str | None) -> None:
        await self._conn.execute(
            """
            INSERT INTO erp_connector_state (id, paused, stopped_auth, reason, credentials_fingerprint, changed_at)
            VALUES (1, $1, $2, $3, $4, now())
            ON CONFLICT (id) DO UPDATE SET paused = $1, stopped_auth = $2, reason = $3,
              credentials_fingerprint = $4, changed_at = now()
            """,
            state.paused,
            state.stopped_auth,
            state.reason,
            fingerprint,
        )
