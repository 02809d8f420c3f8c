"""transform's copy of ingest's employee list (from ingest.employee-changed.v1), for "my queue"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transform.domain.normalize import normalize_text
from transform.service_layer.ports import EmployeeCopy

if TYPE_CHECKING:
    import asyncpg

    from common.events.ingest import EmployeeChanged


class PostgresEmployees:
    """transform.service_layer.ports.EmployeeRepository on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def keep_newer(self, employees: list[EmployeeChanged]) -> int:
        return await keep_newer(self._conn, employees)

    async def find(self, number: str) -> EmployeeCopy | None:
        return await find(self._conn, number)


async def keep_newer(conn: asyncpg.Connection, employees: list[EmployeeChanged]) -> int:
    """Upsert each employee unless the copy already holds this version or a newer one; rows written."""
    rows = await conn.fetch(
        """INSERT INTO employees AS e (employee_no, name, workshop, processes, active, version)
           SELECT t.no, t.name, t.workshop, string_to_array(t.processes, E'\\x1f'), t.active, t.version
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::int[])
             AS t(no, name, workshop, processes, active, version)
           ON CONFLICT (employee_no) DO UPDATE SET name = excluded.name, workshop = excluded.workshop,
             processes = excluded.processes, active = excluded.active, version = excluded.version, updated_at = now()
           WHERE e.version < excluded.version
           RETURNING employee_no""",
        [normalize_text(e.number) or e.number for e in employees],  # queried in the same form
        [e.name for e in employees],
        [e.workshop for e in employees],
        ["\x1f".join(e.processes) for e in employees],  # ingest refuses control characters in names
        [e.active for e in employees],
        [e.version for e in employees],
    )
    return len(rows)


async def find(conn: asyncpg.Connection | asyncpg.Pool, number: str) -> EmployeeCopy | None:
    r = await conn.fetchrow(
        "SELECT employee_no, processes, active FROM employees WHERE employee_no = $1", number
    )
    return EmployeeCopy(r["employee_no"], tuple(r["processes"]), r["active"]) if r else None
