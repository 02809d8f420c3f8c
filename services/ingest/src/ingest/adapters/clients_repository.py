"""SQL for managing system clients (the command-line tool)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg


async def create(
    pool: asyncpg.Pool,
    client_id: str,
    name: str,
    secret_hash: str,
    scopes: list[str],
    per_minute: int,
    per_day: int,
    *,
    if_missing: bool,
    rows_per_day: int = 10_000,
) -> bool:
    # Without --if-missing an existing id is an error (unique violation), never a silent overwrite.
    status = await pool.execute(
        "INSERT INTO clients (client_id, name, secret_hash, scopes, rate_per_minute, rate_per_day, rows_per_day)"
        " SELECT $1, $2, $3, $4, $5, $6, $8 WHERE NOT ($7 AND EXISTS (SELECT 1 FROM clients WHERE client_id = $1))",
        client_id,
        name,
        secret_hash,
        scopes,
        per_minute,
        per_day,
        if_missing,
        rows_per_day,
    )
    return bool(status.endswith(" 1"))


async def list_clients(pool: asyncpg.Pool) -> list[Any]:
    return list(await pool.fetch("SELECT * FROM clients ORDER BY client_id"))


async def set_disabled(pool: asyncpg.Pool, client_id: str, disabled: bool) -> bool:
    status = await pool.execute("UPDATE clients SET disabled = $2 WHERE client_id = $1", client_id, disabled)
    return bool(status.endswith(" 1"))


async def rotate(pool: asyncpg.Pool, client_id: str, secret_hash: str) -> bool:
    status = await pool.execute(
        "UPDATE clients SET secret_hash = $2, rotated_at = now() WHERE client_id = $1", client_id, secret_hash
    )
    return bool(status.endswith(" 1"))


async def set_rows_per_day(pool: asyncpg.Pool, client_id: str, rows_per_day: int) -> bool:
    status = await pool.execute(
        "UPDATE clients SET rows_per_day = $2 WHERE client_id = $1", client_id, rows_per_day
    )
    return bool(status.endswith(" 1"))
