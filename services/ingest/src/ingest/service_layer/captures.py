"""Record a WeChat capture; emit an event only when its content changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from common import outbox, topics
from common.events.customers import WechatCustomerCaptured
from common.events.envelope import Envelope

if TYPE_CHECKING:
    import asyncpg

    from ingest.domain.capture import Capture

SCHEMA = "ingest"


async def capture_customer(
    pool: asyncpg.Pool, capture: Capture, client_id: str, correlation_id: str
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        version = await conn.fetchval(
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
        if version is None:
            return {"wechat_id": capture.wechat_id, "status": "unchanged"}
        event = WechatCustomerCaptured(
            wechat_id=capture.wechat_id,
            version=version,
            captured_at=capture.captured_at,
            client_id=client_id,
            fields=capture.fields,
            sources=capture.sources,
            verified=list(capture.verified),
        )
        envelope = Envelope[WechatCustomerCaptured](
            event_type="WechatCustomerCaptured", source=SCHEMA, correlation_id=correlation_id, payload=event
        )
        await outbox.add(
            conn,
            SCHEMA,
            [outbox.row_for(topics.INGEST_WECHAT_CUSTOMER_CAPTURED, capture.wechat_id, envelope)],
        )
    return {"wechat_id": capture.wechat_id, "status": "accepted", "version": version}
