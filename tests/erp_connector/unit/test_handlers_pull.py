"""The pull on fakes: events only for new or changed customers, flags for vanished ones, the lock."""

from __future__ import annotations

import uuid
from typing import Any

from common import topics
from erp_connector.domain.control import RunState
from erp_connector.domain.customer import ErpCustomer
from erp_connector.domain.errors import AuthError, TransientError
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.pull import PullPolicy, PullService
from tests.erp_connector.fakes import FakeErpClient, FakeMetrics, FakePullLock, FakeSvcUnitOfWork


def customers(n: int) -> list[ErpCustomer]:
    return [ErpCustomer(i, code=f"KH-{i}", name=f"公司{i}") for i in range(1, n + 1)]


def service(
    uow: FakeSvcUnitOfWork, client: FakeErpClient, lock: FakePullLock | None = None, **policy: Any
) -> tuple[PullService, ConnectorControl, FakeMetrics]:
    values: dict[str, Any] = {
        "page_size": 10,
        "page_pause_s": 0.0,
        "max_page_attempts": 3,
        "max_outage_s": 1.0,
        "not_visible_after_scans": 2,
        "retry_base_s": 0.0,
        "retry_cap_s": 0.0,
        **policy,
    }
    metrics = FakeMetrics()
    control = ConnectorControl(lambda: uow, client, metrics, lambda: "fp", lambda fp: fp == "fp")
    pull = PullService(lambda: uow, lock or FakePullLock(), client, control, metrics, PullPolicy(**values))
    return pull, control, metrics


async def test_a_first_pull_emits_everyone_and_a_second_nothing() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient(customers(25))
    pull, _, metrics = service(uow, client)

    first = await pull.run()
    assert (first.result, first.pages, first.new, first.changed) == ("success", 3, 25, 0)
    events = uow.outbox.payloads(topics.ERP_CUSTOMER_PULLED)
    assert sorted(e.erp_id for e in events) == list(range(1, 26))

    second = await pull.run()
    assert (second.new, second.changed, second.unchanged) == (0, 0, 25)
    assert len(uow.outbox.published) == 25  # nothing more
    assert metrics.pulled[-1] == (0, 0, 5)
    assert [r[:2] for r in uow.sync_logs.rows] == [("pull", "success"), ("pull", "success")]


async def test_a_changed_customer_is_emitted_again_at_its_next_version_with_a_stable_event_id() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient(customers(3))
    pull, _, _ = service(uow, client)
    await pull.run()
    client.customers[2] = ErpCustomer(2, code="KH-2", name="改名公司")
    report = await pull.run()
    assert (report.changed, report.unchanged) == (1, 2)
    last = uow.outbox.published[-1]
    assert last.key == "2" and last.envelope.payload.fields["name"] == "改名公司"
    assert last.envelope.event_id == uuid.uuid5(
        uuid.UUID("6f1c54a2-6f0e-4f57-9a53-2d7f0b6c0e41"),
        f"erp-customer:2:2:{client.customers[2].content_hash}",
    )
    assert uow.hashes.rows[2].version == 2


async def test_customers_missing_from_two_complete_scans_are_flagged_not_deleted() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient(customers(3))
    pull, _, _ = service(uow, client)
    await pull.run()
    del client.customers[3]
    assert (await pull.run()).not_visible == 0
    assert (await pull.run()).not_visible == 1
    assert await uow.hashes.counts() == {"visible": 2, "not_visible": 1}


async def test_a_pull_is_skipped_while_another_replica_holds_the_lock() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient(customers(3))
    pull, _, _ = service(uow, client, FakePullLock(free=False))
    report = await pull.run()
    assert report.skipped and report.result == "skipped"
    assert client.calls == [] and uow.sync_logs.rows == [] and uow.committed == 0


async def test_a_page_failing_every_time_ends_the_pull_partial_keeping_earlier_pages() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient(customers(15))
    pull, _, metrics = service(uow, client)
    original = client.list_customers

    async def second_page_fails(page: int, page_size: int, **kw: Any) -> Any:
        if page == 2:
            raise TransientError("502")
        return await original(page, page_size, **kw)

    client.list_customers = second_page_fails  # type: ignore[method-assign]
    report = await pull.run()
    assert (report.result, report.seen, report.page_retries) == ("partial", 10, 3)
    assert len(uow.outbox.published) == 10 and metrics.pull_failures == 1
    assert uow.sync_logs.rows[-1][1] == "partial"


async def test_rejected_credentials_stop_the_connector_and_fail_the_pull() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient(customers(3))
    client.fail["list_customers"] = [AuthError("用户名或密码错误")]
    pull, control, _ = service(uow, client)
    report = await pull.run()
    assert report.result == "failed" and control.state is RunState.STOPPED_AUTH
    assert uow.control.fingerprint == "fp" and uow.outbox.published == []
