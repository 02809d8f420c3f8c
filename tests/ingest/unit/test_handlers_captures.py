"""The WeChat capture handler on fakes: a new or changed capture gets the next version and an event, the same
content again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from common import topics
from common.events.customers import WechatCustomerCaptured
from ingest.domain.capture import Capture
from ingest.service_layer.captures import capture_customer
from tests.ingest.fakes import FakeIngestUnitOfWork

AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


def _capture(phone: str) -> Capture:
    return Capture("wx-1", AT, {"name": "王", "phone": phone}, {"phone": "ai"}, ("name",))


async def test_new_changed_and_unchanged_captures() -> None:
    uow = FakeIngestUnitOfWork()
    assert await capture_customer(uow.factory, _capture("1"), "mini", "c") == {
        "wechat_id": "wx-1",
        "status": "accepted",
        "version": 1,
    }
    assert await capture_customer(uow.factory, _capture("1"), "mini", "c") == {
        "wechat_id": "wx-1",
        "status": "unchanged",
    }
    assert (await capture_customer(uow.factory, _capture("2"), "mini", "c"))["version"] == 2
    events: list[WechatCustomerCaptured] = uow.outbox.payloads(topics.INGEST_WECHAT_CUSTOMER_CAPTURED)
    assert [(e.version, e.fields["phone"], e.sources, e.verified) for e in events] == [
        (1, "1", {"phone": "ai"}, ["name"]),
        (2, "2", {"phone": "ai"}, ["name"]),
    ]
    assert [p.key for p in uow.outbox.published] == ["wx-1", "wx-1"]
    assert uow.committed == 2  # the unchanged capture committed nothing
