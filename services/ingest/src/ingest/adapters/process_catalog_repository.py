"""SQL for ingest's copy of transform's process catalogue (`ingest.process_catalog`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.domain.processes import KnownProcess
from ingest.service_layer.ports import HeldProcess

if TYPE_CHECKING:
    import asyncpg

    from common.events.transform import ProcessChanged


class PgProcessCatalogRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def known(self) -> list[KnownProcess]:
        rows = await self.conn.fetch("SELECT name, aliases, former_names, active FROM process_catalog")
        return [
            KnownProcess(r["name"], (r["name"], *r["aliases"], *r["former_names"]), r["active"]) for r in rows
        ]

    async def held(self, process_id: int) -> HeldProcess | None:
        r = await self.conn.fetchrow(
            "SELECT name, version FROM process_catalog WHERE process_id = $1 FOR UPDATE", process_id
        )
        return HeldProcess(r["name"], r["version"]) if r else None

    async def store(self, e: ProcessChanged) -> None:
        # A name migration 0055 kept under a negative id (added to known_processes by hand) is now transform's.
        await self.conn.execute(
            "DELETE FROM process_catalog WHERE process_id < 0 AND name = any($1::text[])",
            [e.name, *e.aliases, *e.former_names],
        )
        await self.conn.execute(
            """INSERT INTO process_catalog AS c (process_id, name, aliases, former_names, active, version)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (process_id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases,
                 former_names = excluded.former_names, active = excluded.active, version = excluded.version,
                 updated_at = now()
               WHERE c.version < excluded.version""",
            e.process_id,
            e.name,
            e.aliases,
            e.former_names,
            e.active,
            e.version,
        )

    async def rename_progress(self, old: str, new: str) -> None:
        """Progress states recorded under the old name continue under the new one (same version sequence)."""
        await self.conn.execute(
            "UPDATE progress_state s SET process = $2 WHERE s.process = $1 AND NOT EXISTS ("
            " SELECT 1 FROM progress_state o WHERE o.contract_no = s.contract_no AND o.product_id = s.product_id"
            " AND o.process = $2)",
            old,
            new,
        )
