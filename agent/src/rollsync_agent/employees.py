"""Upload the factory's employee table (seed 000: the local system owns it) when it is configured.

The whole list goes up in `batchSize` batches whenever its content changed since the last successful upload;
an unchanged list costs one local read and no request.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from rollsync_agent.cloud import CloudClient, CloudRefusedError, idempotency_key
from rollsync_agent.factory_db import reflect

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from rollsync_agent.config import EmployeeTable
    from rollsync_agent.state import StateStore

PATH = "/sync/employees/batch"
_SEPARATORS = re.compile(r"[,，、;；]")
_INACTIVE = {"0", "false", "否", "n", "no", "离职", "停用"}


def _active(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool | int):
        return bool(value)
    return str(value).strip().lower() not in _INACTIVE


def read_employees(engine: Engine, table: EmployeeTable) -> list[dict[str, Any]]:
    t = reflect(engine, table.table_name)
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c[table.number_column])).mappings().all()
    return [
        {
            "number": str(r[table.number_column] or "").strip(),
            "name": str(r[table.name_column] or "").strip(),
            "workshop": str(r.get(table.workshop_column) or "").strip(),
            "processes": [
                p.strip() for p in _SEPARATORS.split(str(r.get(table.processes_column) or "")) if p.strip()
            ],
            "active": _active(r.get(table.active_column)),
        }
        for r in rows
    ]


def upload_employees(
    engine: Engine, table: EmployeeTable, state: StateStore, client: CloudClient, batch_size: int
) -> int:
    """Rows sent (0 when the list is unchanged). Rows the cloud rejects are reported, not retried forever."""
    employees = read_employees(engine, table)
    digest = hashlib.sha256(json.dumps(employees, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    if not employees or state.meta_json("employees_hash") == digest:
        return 0
    rejected: list[str] = []
    for start in range(0, len(employees), batch_size):
        body = json.dumps({"employees": employees[start : start + batch_size]}, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key(client.api.client_id, body, "employees"),
        }
        answer = client.call("POST", PATH, content=body, headers=headers).json()
        rejected += [
            f"{r['index'] + start}: {r['message']}" for r in answer["results"] if r["status"] == "rejected"
        ]
    state.put(employees_hash=digest, employees_uploaded=len(employees))
    if rejected:
        raise CloudRefusedError(f"employee rows refused: {'; '.join(rejected[:5])}")
    return len(employees)
