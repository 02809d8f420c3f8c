"""How a push ends, in one transaction each: the queue row, and the events that tell rules.

Synced: `erp.customer-push-completed.v1` (result=synced, erp_id). Dead: the original command bytes
to `rules.customer-sync-requested.v1.dlq` with the ERP's error in headers, a failed completion, and
the inbox row marked dead so a replay of the command applies once more (DELIVERY.md §6).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from common import topics
from common.events.customers import CustomerPushCompleted
from common.events.envelope import Envelope
from erp_connector.domain.masking import mask_phones

if TYPE_CHECKING:
    from erp_connector.domain.errors import ErpError
    from erp_connector.domain.push import PushItem
    from erp_connector.service_layer.ports import UnitOfWorkFactory

SOURCE = "erp-connector"


class PushOutcomes:
    """`consumer` is the inbox consumer (the consumer group) whose row a dead push marks dead."""

    def __init__(self, uow: UnitOfWorkFactory, consumer: str) -> None:
        self._uow, self._consumer = uow, consumer

    async def synced(self, item: PushItem) -> bool:
        """False when the claim was lost (nothing written: the holder reports the push)."""
        async with self._uow() as uow:
            if not await uow.pushes.finish(item, "synced", None):
                return False
            uow.outbox.add(topics.ERP_CUSTOMER_PUSH_COMPLETED, item.customer_id, _completed(item, None))
            await uow.commit()
        return True

    async def dead(self, item: PushItem, exc: ErpError) -> bool:
        """False when the claim was lost (nothing written)."""
        error = mask_phones(f"{type(exc).__name__}: {exc.message}")[:500]
        async with self._uow() as uow:
            if not await uow.pushes.finish(item, "dead", error):
                return False
            await uow.inbox.mark_dead(self._consumer, uuid.UUID(item.request.event_id))
            dlq = topics.dlq(topics.RULES_CUSTOMER_SYNC_REQUESTED)
            uow.dead_letters.add(
                dlq, item.customer_id, item.request.command, self._dlq_headers(item, exc, error)
            )
            uow.outbox.add(topics.ERP_CUSTOMER_PUSH_COMPLETED, item.customer_id, _completed(item, error))
            await uow.pushes.add_attempt(item, item.stage.value, "dead", error, 0.0)
            await uow.commit()
        return True

    def _dlq_headers(self, item: PushItem, exc: ErpError, error: str) -> dict[str, str]:
        return {
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


def _completed(item: PushItem, error: str | None) -> Envelope[CustomerPushCompleted]:
    """A synced push (no error) carries its erp_id; a failed one its error."""
    payload = CustomerPushCompleted(
        customer_id=item.customer_id,
        version=item.version,
        result="synced" if error is None else "failed",
        erp_id=item.erp_id if error is None else None,
        error=error,
        completed_at=datetime.now(UTC),
    )
    return Envelope[CustomerPushCompleted](
        event_type="CustomerPushCompleted",
        source=SOURCE,
        correlation_id=item.request.event_id,
        payload=payload,
    )
