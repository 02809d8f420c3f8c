"""How a push ends, in one transaction each: the queue row, and the events that tell rules.

Synced: `erp.customer-push-completed.v1` (result=synced, erp_id). Dead: the original command bytes
to `rules.customer-sync-requested.v1.dlq` with the ERP's error in headers, a failed completion, and
the inbox row marked dead so a replay of the command applies once more (DELIVERY.md §6).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from common import inbox, outbox, topics
from common.events.customers import CustomerPushCompleted
from common.events.envelope import Envelope
from erp_connector.adapters import repository as repo
from erp_connector.domain.masking import mask_phones

if TYPE_CHECKING:
    import asyncpg

    from erp_connector.domain.errors import ErpError
    from erp_connector.domain.push import PushItem

SCHEMA = "erp"
SOURCE = "erp-connector"


class PushOutcomes:
    def __init__(self, pool: asyncpg.Pool, consumer: str, schema: str = SCHEMA) -> None:
        self._pool, self._consumer, self._schema = pool, consumer, schema

    async def synced(self, item: PushItem) -> bool:
        """False when the claim was lost (nothing written: the holder reports the push)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await repo.finish(conn, item, "synced", None):
                return False
            await outbox.add(conn, self._schema, [self._completed(item, "synced", None)])
        return True

    async def dead(self, item: PushItem, exc: ErpError) -> bool:
        """False when the claim was lost (nothing written)."""
        error = mask_phones(f"{type(exc).__name__}: {exc.message}")[:500]
        async with self._pool.acquire() as conn, conn.transaction():
            if not await repo.finish(conn, item, "dead", error):
                return False
            await inbox.mark_dead(conn, self._consumer, uuid.UUID(item.request.event_id))
            await outbox.add(
                conn,
                self._schema,
                [self._dead_letter(item, exc, error), self._completed(item, "failed", error)],
            )
        await repo.add_attempt(self._pool, item, item.stage.value, "dead", error, 0.0)
        return True

    def _completed(self, item: PushItem, result: str, error: str | None) -> outbox.OutboxRow:
        payload = CustomerPushCompleted(
            customer_id=item.customer_id,
            version=item.version,
            result="synced" if result == "synced" else "failed",
            erp_id=item.erp_id if result == "synced" else None,
            error=error,
            completed_at=datetime.now(UTC),
        )
        envelope = Envelope[CustomerPushCompleted](
            event_type="CustomerPushCompleted",
            source=SOURCE,
            correlation_id=item.request.event_id,
            payload=payload,
        )
        return outbox.row_for(topics.ERP_CUSTOMER_PUSH_COMPLETED, item.customer_id, envelope)

    def _dead_letter(self, item: PushItem, exc: ErpError, error: str) -> outbox.OutboxRow:
        headers = {
            **item.request.headers,
            "event_id": item.request.event_id,
            "dlq-original-topic": topics.RULES_CUSTOMER_SYNC_REQUESTED,
            "dlq-consumer": self._consumer,
            "dlq-error-class": type(exc).__name__,
            "dlq-error": error,
            "dlq-erp-status": exc.erp_status or "",
            "dlq-http-status": str(exc.http_status or ""),
            "dlq-attempts": str(item.attempts),
            "dlq-read-failures": str(item.read_failures),
            "dlq-erp-id": str(item.erp_id or ""),
            "dlq-failed-at": datetime.now(UTC).isoformat(),
        }
        return outbox.OutboxRow(
            uuid.uuid4(),
            topics.dlq(topics.RULES_CUSTOMER_SYNC_REQUESTED),
            item.customer_id,
            item.request.command,
            headers,
        )
