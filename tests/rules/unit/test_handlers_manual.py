"""Sales staff's writes and operators' re-syncs through the real handlers on in-memory fakes: each its own
unit of work, committed on success, rolled back on a refusal."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from common import topics
from common.events.customers import ErpCustomerPulled, WechatCustomerCaptured
from rules.domain.manual import ManualInputError
from rules.domain.record import ResyncRequest
from rules.service_layer import manual, resync
from rules.service_layer.admin import NotFoundError
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Deps, Trigger
from tests.rules.fakes import FakeSvcUnitOfWork, deps_for

SYNC_REQUESTED = topics.RULES_CUSTOMER_SYNC_REQUESTED
WHO = ("sales-1", "req-1")


def entry(**change: str) -> dict[str, str]:
    return {"company_name": "潮州恒达包装有限公司", "real_name": "陈静", "phone": "13912345678", **change}


async def held(uow: FakeSvcUnitOfWork, deps: Deps) -> str:
    """A captured customer whose address the ERP showed otherwise within one pull interval: held (pending)."""
    now = datetime.now(UTC)
    name = "揭阳印务有限公司"
    captured = WechatCustomerCaptured(
        wechat_id="wx_h",
        version=1,
        captured_at=now - timedelta(minutes=10),
        client_id="t",
        fields={"company_name": name, "phone": "13712345678", "address": "揭阳市榕城区1号"},
    )
    pulled = ErpCustomerPulled(
        erp_id=8001,
        code=None,
        content_hash="h",
        pulled_at=now,
        fields={"name": name, "wechat": "wx_h", "address": "揭阳市榕城区2号"},
    )
    await apply_captures(uow, [Captured(captured, Trigger("wechat_capture", uuid.uuid4(), "t"))], deps)
    await apply_pulls(uow, [Pulled(pulled, Trigger("erp_pull", uuid.uuid4(), "t"))], deps)
    return uow.customers.one().id


async def test_an_entry_creates_a_customer_and_a_second_one_matches_it_by_phone() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    first = await manual.enter_customer(uow.factory(), deps, entry(), frozenset({"phone"}), WHO)
    assert (first["created"], first["matched_by"], first["code"]) == (True, None, "KH-000001")
    c = uow.customers.one()
    assert (c.fields["phone"].value, c.fields["phone"].verified) == ("13912345678", True)
    assert {h.trigger for h in uow.customers.history} == {"manual_entry"}
    assert {h.changed_by for h in uow.customers.history} == {"sales-1"}
    assert {"name:潮州恒达包装有限公司", "phone:13912345678"} <= uow.customers.locked
    again = await manual.enter_customer(uow.factory(), deps, entry(real_name="陈小静"), frozenset(), WHO)
    assert (again["created"], again["matched_by"], again["customer_id"]) == (False, "phone", c.id)
    assert uow.customers.one().fields["real_name"].value == "陈小静"
    assert uow.committed == 2


async def test_an_entry_of_a_known_company_matches_by_name_whatever_the_spacing() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    first = await manual.enter_customer(uow.factory(), deps, entry(), frozenset(), WHO)
    spaced = entry(company_name=" ".join("潮州恒达包装有限公司"), phone="13900000000")
    other = await manual.enter_customer(uow.factory(), deps, spaced, frozenset(), WHO)
    assert (other["customer_id"], other["matched_by"]) == (first["customer_id"], "company_name")


async def test_a_refused_entry_writes_nothing() -> None:
    uow = FakeSvcUnitOfWork()
    with pytest.raises(ManualInputError) as refused:
        await manual.enter_customer(uow.factory(), deps_for(uow), entry(phone="123"), frozenset(), WHO)
    assert refused.value.code == "invalid_phone"
    assert (uow.customers.rows, uow.outbox.published, uow.committed) == ({}, [], 0)


async def test_resolving_a_held_value_takes_it_audits_it_and_decides_again() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    customer_id = await held(uow, deps)
    assert uow.customers.one().fields["address"].pending is not None
    answer = await manual.resolve_pending(uow.factory(), deps, customer_id, "address", "pending", None, WHO)
    assert (answer["value"], answer["requested"]) == ("揭阳市榕城区2号", False)  # the ERP's: nothing to send
    slot = uow.customers.one().fields["address"]
    assert (slot.value, slot.pending) == ("揭阳市榕城区2号", None)
    last = uow.customers.history[-1]
    assert (last.change.field, last.trigger, last.changed_by) == ("address", "manual_merge", "sales-1")
    assert uow.customers.decisions[-1].trigger == "manual_merge"
    assert uow.committed == 3


async def test_resolving_what_is_not_held_is_refused_and_rolled_back() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    customer_id = await held(uow, deps)
    before = (dict(uow.customers.rows), len(uow.customers.history), len(uow.customers.decisions))
    with pytest.raises(ManualInputError) as refused:
        await manual.resolve_pending(uow.factory(), deps, customer_id, "email", "pending", None, WHO)
    assert (refused.value.code, refused.value.status) == ("nothing_pending", 409)
    assert (dict(uow.customers.rows), len(uow.customers.history), len(uow.customers.decisions)) == before
    with pytest.raises(NotFoundError):
        await manual.resolve_pending(uow.factory(), deps, "cu_missing", "address", "pending", None, WHO)
    assert uow.committed == 2  # the capture and the pull only


async def test_a_forced_resync_requests_every_value_again_under_the_next_version() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    fields = {
        "company_name": "汕头宏达彩印有限公司",
        "phone": "13800138000",
        "real_name": "张伟",
        "has_order": True,
    }
    captured = WechatCustomerCaptured(
        wechat_id="wx_r", version=1, captured_at=datetime.now(UTC), client_id="t", fields=fields
    )
    await apply_captures(uow, [Captured(captured, Trigger("wechat_capture", uuid.uuid4(), "t"))], deps)
    customer_id = uow.customers.one().id
    answer = await resync.force_resync(uow.factory(), deps, customer_id, "op-1")
    assert (answer["requested"], answer["decision"]["rule"], answer["erp_sync_status"]) == (
        True,
        "mandatory_has_order",
        "pending",
    )
    assert answer["fields"] == ["company_name", "phone", "real_name", "wechat_id"]
    first, again = uow.outbox.payloads(SYNC_REQUESTED)
    assert (first.version, again.version, again.fields) == (1, 2, first.fields)
    assert uow.outbox.published[-1].envelope.correlation_id == "op-1"
    assert uow.customers.decisions[-1].trigger == "manual_resync"
    assert uow.committed == 2


async def test_a_resync_of_an_unknown_customer_is_not_found_and_commits_nothing() -> None:
    uow = FakeSvcUnitOfWork()
    with pytest.raises(NotFoundError):
        await resync.force_resync(uow.factory(), deps_for(uow), "cu_missing", "op-1")
    assert (uow.committed, uow.customers.decisions) == (0, [])


async def test_sql_resync_requests_are_worked_off_each_in_its_own_unit_of_work() -> None:
    uow = FakeSvcUnitOfWork()
    deps = deps_for(uow)
    customer_id = await held(uow, deps)
    uow.resync_requests.queue.extend([ResyncRequest(customer_id, "dba"), ResyncRequest(customer_id, "dba")])
    await uow.commit()
    assert await resync.work_off_requests(uow.factory(), deps) == 2
    assert not uow.resync_requests.queue
    assert [d.trigger for d in uow.customers.decisions[-2:]] == ["manual_resync", "manual_resync"]
    assert uow.committed == 5


async def test_a_failing_sql_resync_request_stays_queued() -> None:
    uow = FakeSvcUnitOfWork()
    uow.resync_requests.queue.append(ResyncRequest("cu_gone", "dba"))
    await uow.commit()
    with pytest.raises(NotFoundError):
        await resync.work_off_requests(uow.factory(), deps_for(uow))
    assert list(uow.resync_requests.queue) == [ResyncRequest("cu_gone", "dba")]  # rolled back with its effect


async def test_the_resync_poller_logs_a_failed_turn_and_keeps_polling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    uow = FakeSvcUnitOfWork()
    uow.resync_requests.queue.append(ResyncRequest("cu_gone", "dba"))
    await uow.commit()
    poller = asyncio.create_task(resync.work_off_every(uow.factory(), deps_for(uow), 0.001))
    await asyncio.sleep(0.02)
    poller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poller
    failures = [r for r in caplog.records if "re-sync requests" in r.message]
    assert len(failures) >= 2  # the request stays queued: every turn tries it again
