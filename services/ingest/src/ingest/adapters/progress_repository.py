"""SQL for progress states (`ingest.progress_state`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.service_layer.ports import ProgressRow

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg


class PgProgressRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock(self, contract_no: str, product_id: str, process: str) -> ProgressRow | None:
        # The advisory lock also orders two first reports of one state, which have no row to lock yet.
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 1))",
            f"{contract_no}\x1f{product_id}\x1f{process}",
        )
        r = await self.conn.fetchrow(
            "SELECT version, update_time FROM progress_state WHERE contract_no = $1 AND product_id = $2"
            " AND process = $3 FOR UPDATE",
            contract_no,
            product_id,
            process,
        )
        return ProgressRow(r["version"], r["update_time"]) if r else None

    async def save(
        self,
        contract_no: str,
        product_id: str,
        process: str,
        status: str,
        updated_by: str,
        update_time: datetime,
    ) -> int:
        return int(
            await self.conn.fetchval(
                """
            INSERT INTO progress_state AS s (contract_no, product_id, process, status, version, updated_by, update_time)
            VALUES ($1, $2, $3, $4, 1, $5, $6)
            ON CONFLICT (contract_no, product_id, process) DO UPDATE SET status = excluded.status,
              version = s.version + 1, updated_by = excluded.updated_by, update_time = excluded.update_time
            RETURNING version
            """,
                contract_no,
                product_id,
                process,
                status,
                updated_by,
                update_time,
            )
        )

    async def flag_reporter(self, contract_no: str, product_id: str, process: str, flag: str | None) -> None:
        await self.conn.execute(
            "UPDATE progress_state SET reporter_flag = $4 WHERE contract_no = $1 AND product_id = $2 AND process = $3",
            contract_no,
            product_id,
            process,
            flag,
        )
