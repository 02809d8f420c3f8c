"""SQL for clients' last-seen times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg


@dataclass(frozen=True, slots=True)
class ClientSeen:
    client_id: str
    scopes: frozenset[str]
    last_seen: float | None  # Unix seconds


async def record_seen(pool: asyncpg.Pool, client_id: str) -> None:
    """A heartbeat is not business data: losing the last one in a crash costs nothing, so no WAL-flush wait."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit TO off")
        await conn.execute(
            "UPDATE clients SET last_seen_at = greatest(last_seen_at, now()) WHERE client_id = $1", client_id
        )


async def enabled_clients(pool: asyncpg.Pool) -> list[ClientSeen]:
    rows = await pool.fetch(
        "SELECT client_id, scopes, extract(epoch FROM last_seen_at)::float8 AS seen FROM clients WHERE NOT disabled"
    )
    return [ClientSeen(r["client_id"], frozenset(r["scopes"]), r["seen"]) for r in rows]
