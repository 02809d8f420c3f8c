"""SQL for WeChat-captured customers (`ingest.wechat_customers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import asyncpg

    from ingest.domain.capture import Capture


class PgCustomersRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def record(self, capture: Capture, client_id: str) -> int | None:
        version = await self.conn.fetchval(
            """INSERT INTO wechat_customers AS w (wechat_id, version, content_hash, fields, client_id, captured_at)
               VALUES ($1, 1, $2, $3::jsonb, $4, $5)
               ON CONFLICT (wechat_id) DO UPDATE SET version = w.version + 1, content_hash = excluded.content_hash,
                 fields = excluded.fields, client_id = excluded.client_id, captured_at = excluded.captured_at,
                 received_at = now()
               WHERE w.content_hash <> excluded.content_hash RETURNING version""",
            capture.wechat_id,
            capture.content_hash,
            orjson.dumps(capture.fields).decode(),
            client_id,
            capture.captured_at,
        )
        return int(version) if version is not None else None
