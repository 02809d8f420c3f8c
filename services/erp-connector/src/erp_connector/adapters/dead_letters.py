"""A push that ended dead: its command's bytes to the dead-letter topic (written with the unit of
work's outbox rows, in order) and its inbox row marked dead so a replay applies once more."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from common import inbox
from common.outbox import OutboxRow

if TYPE_CHECKING:
    import asyncpg

    from common.uow import PgOutbox


class PostgresDeadLetters:
    def __init__(self, outbox: PgOutbox) -> None:
        self._outbox = outbox

    def add(self, topic: str, key: str, payload: bytes, headers: dict[str, str]) -> None:
        """Raw bytes, not an envelope: the dead letter is the original command, as received."""
        self._outbox.rows.append(OutboxRow(uuid.uuid4(), topic, key, payload, headers))


class PostgresInbox:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def mark_dead(self, consumer: str, event_id: uuid.UUID) -> None:
        await inbox.mark_dead(self._conn, consumer, event_id)
