"""SQL for the factory's employee list (`ingest.employees`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.domain.employees import Employee

if TYPE_CHECKING:
    import asyncpg


class PgEmployeesRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def upsert(self, employees: list[Employee], client_id: str) -> dict[str, int]:
        """Create or change the rows; returns the numbers written with their new version (an identical row is
        left alone, its version too)."""
        rows = await self.conn.fetch(
            "INSERT INTO employees AS e (employee_no, name, workshop, processes, active, client_id, announced)"
            " SELECT t.no, t.name, t.workshop, string_to_array(t.processes, E'\\x1f'), t.active, $6, true"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[])"
            "  AS t(no, name, workshop, processes, active)"
            " ON CONFLICT (employee_no) DO UPDATE SET name = EXCLUDED.name, workshop = EXCLUDED.workshop,"
            "  processes = EXCLUDED.processes, active = EXCLUDED.active, client_id = EXCLUDED.client_id,"
            "  updated_at = now(), version = e.version + 1, announced = true"
            " WHERE (e.name, e.workshop, e.processes, e.active)"
            "  IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.workshop, EXCLUDED.processes, EXCLUDED.active)"
            " RETURNING employee_no, version",
            [e.number for e in employees],
            [e.name for e in employees],
            [e.workshop for e in employees],
            ["\x1f".join(e.processes) for e in employees],  # the domain refuses control characters
            [e.active for e in employees],
            client_id,
        )
        return {r["employee_no"]: r["version"] for r in rows}

    async def unannounced(self) -> list[Employee]:
        """Rows never published (uploaded before employee events existed), locked; `index` is their version."""
        rows = await self.conn.fetch(
            "SELECT employee_no, name, workshop, processes, active, version FROM employees WHERE NOT announced"
            " ORDER BY employee_no FOR UPDATE"
        )
        return [
            Employee(
                r["version"], r["employee_no"], r["name"], r["workshop"], tuple(r["processes"]), r["active"]
            )
            for r in rows
        ]

    async def mark_announced(self, numbers: list[str]) -> None:
        await self.conn.execute(
            "UPDATE employees SET announced = true WHERE employee_no = any($1::text[])", numbers
        )

    async def reporter_flag(self, updated_by: str) -> str | None:
        active = await self.conn.fetchval(
            "SELECT active FROM employees WHERE employee_no = $1 OR name = $1"
            " ORDER BY employee_no = $1 DESC, active DESC LIMIT 1",
            updated_by,
        )
        if active is None:
            return "unknown"
        return None if active else "inactive"

    async def flagged_reports(self) -> dict[str, int]:
        rows = await self.conn.fetch(
            "SELECT reporter_flag, count(*) AS n FROM progress_state WHERE reporter_flag IS NOT NULL GROUP BY 1"
        )
        return {r["reporter_flag"]: int(r["n"]) for r in rows}
