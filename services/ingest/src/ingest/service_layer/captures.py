"""Record a WeChat capture; emit an event only when its content changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import topics
from common.events.customers import WechatCustomerCaptured
from common.events.envelope import Envelope
from ingest.service_layer.events import SOURCE

if TYPE_CHECKING:
    from ingest.domain.capture import Capture
    from ingest.service_layer.ports import UowFactory


async def capture_customer(
    uow_factory: UowFactory, capture: Capture, client_id: str, correlation_id: str
) -> dict[str, Any]:
    async with uow_factory() as uow:
        version = await uow.customers.record(capture, client_id)
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
            event_type="WechatCustomerCaptured", source=SOURCE, correlation_id=correlation_id, payload=event
        )
        uow.outbox.add(topics.INGEST_WECHAT_CUSTOMER_CAPTURED, capture.wechat_id, envelope)
        await uow.commit()
    return {"wechat_id": capture.wechat_id, "status": "accepted", "version": version}
