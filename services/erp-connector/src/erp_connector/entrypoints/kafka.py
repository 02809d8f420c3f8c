"""erp-connector's subscriber: typed sync commands (decoded by the inbox consumer) queued. Never calls the ERP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from erp_connector.domain.push import PushRequest
from erp_connector.service_layer.push import enqueue

if TYPE_CHECKING:
    from collections.abc import Callable

    import asyncpg

    from common.consumer import ApplyBatch
    from common.events.customers import CustomerSyncRequested
    from common.received import Received
    from erp_connector.service_layer.ports import AbstractUnitOfWork

    UnitOfWorkOn = Callable[[asyncpg.Connection], AbstractUnitOfWork]


def _request(r: Received[CustomerSyncRequested]) -> PushRequest:
    c, d = r.payload, r.delivery
    return PushRequest(
        customer_id=c.customer_id,
        code=c.code,
        action=c.action,
        erp_id=c.erp_id,
        version=c.version,
        fields=dict(c.fields),
        event_id=str(r.event_id),
        command=d.value,
        headers=d.headers,
        rule=c.rule,
        reason=c.reason,
        replay=d.is_replay,
    )


def on_customer_sync_requested(uow_on: UnitOfWorkOn) -> ApplyBatch:
    """The subscriber, bound to `uow_on(conn)`: a unit of work joined to the inbox consumer's transaction."""

    async def apply(conn: asyncpg.Connection, batch: list[Received[CustomerSyncRequested]]) -> None:
        await enqueue(uow_on(conn), [_request(r) for r in batch])

    return apply
