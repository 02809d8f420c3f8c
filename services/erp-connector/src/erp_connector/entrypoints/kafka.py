"""erp-connector's subscriber: decode sync commands and queue them. Never calls the ERP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from pydantic import ValidationError

from common.delivery import Delivery, PermanentError
from common.events.customers import CustomerSyncRequested
from common.events.envelope import Envelope
from erp_connector.domain.push import PushRequest
from erp_connector.service_layer.push import enqueue

if TYPE_CHECKING:
    from collections.abc import Callable

    import asyncpg

    from common.consumer import ApplyBatch
    from erp_connector.service_layer.ports import AbstractUnitOfWork

    UnitOfWorkOn = Callable[[asyncpg.Connection], AbstractUnitOfWork]


def _request(d: Delivery) -> PushRequest:
    try:
        envelope = Envelope[CustomerSyncRequested].model_validate(orjson.loads(d.value))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise PermanentError(f"undecodable CustomerSyncRequested: {str(exc)[:300]}") from exc
    c = envelope.payload
    return PushRequest(
        customer_id=c.customer_id,
        code=c.code,
        action=c.action,
        erp_id=c.erp_id,
        version=c.version,
        fields=dict(c.fields),
        event_id=str(d.event_id or envelope.event_id),
        command=d.value,
        headers=d.headers,
        rule=c.rule,
        reason=c.reason,
        replay=d.is_replay,
    )


def on_customer_sync_requested(uow_on: UnitOfWorkOn) -> ApplyBatch:
    """The subscriber, bound to `uow_on(conn)`: a unit of work joined to the inbox consumer's transaction."""

    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        await enqueue(uow_on(conn), [_request(d) for d in batch])

    return apply
