"""Idempotent inbox: record each event id in the same transaction as its effect (DELIVERY.md §4)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg


async def claim(
    conn: asyncpg.Connection,
    consumer: str,
    event_ids: list[uuid.UUID],
    replay_ids: list[uuid.UUID] | None = None,
) -> set[uuid.UUID]:
    """Ids not seen before by `consumer`. A replayed dead event may apply once more."""
    rows = await conn.fetch(
        """
        INSERT INTO inbox (consumer, event_id, outcome)
        SELECT $1, e, 'applied' FROM unnest($2::uuid[]) AS e
        ON CONFLICT (consumer, event_id) DO UPDATE SET outcome = 'applied', received_at = now()
          WHERE inbox.outcome = 'dead' AND inbox.event_id = any($3::uuid[])
        RETURNING event_id
        """,
        consumer,
        event_ids,
        replay_ids or [],
    )
    return {r["event_id"] for r in rows}


async def mark_dead(conn: asyncpg.Connection, consumer: str, event_id: uuid.UUID) -> None:
    await conn.execute(
        """
        INSERT INTO inbox (consumer, event_id, outcome) VALUES ($1, $2, 'dead')
        ON CONFLICT (consumer, event_id) DO UPDATE SET outcome = 'dead'
        """,
        consumer,
        event_id,
    )


async def record_attempt(pool: asyncpg.Pool, consumer: str, event_id: uuid.UUID, error: str) -> int:
    """Count a failed attempt in its own short transaction, so the bound survives restarts."""
    attempts = await pool.fetchval(
        """
        INSERT INTO inbox_attempts (consumer, event_id, attempts, last_error) VALUES ($1, $2, 1, $3)
        ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = inbox_attempts.attempts + 1,
          last_error = excluded.last_error, last_failed_at = now()
        RETURNING attempts
        """,
        consumer,
        event_id,
        error[:2000],
    )
    return int(attempts)


async def attempts_so_far(pool: asyncpg.Pool, consumer: str, event_id: uuid.UUID) -> int:
    value = await pool.fetchval(
        "SELECT attempts FROM inbox_attempts WHERE consumer = $1 AND event_id = $2", consumer, event_id
    )
    return int(value or 0)
