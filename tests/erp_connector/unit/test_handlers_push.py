"""Push handlers on fakes: enqueue, the worker's create / retry / dead-letter / lease paths, outcomes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from common import topics
from erp_connector.domain.control import RunState
from erp_connector.domain.customer import ErpCustomer
from erp_connector.domain.errors import AuthError, BusinessError, TransientError
from erp_connector.domain.rate_limit import RetryBudget
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.push import PushPolicy, PushWorker, enqueue
from erp_connector.service_layer.push_outcomes import PushOutcomes
from tests.erp_connector.fakes import (
    FakeErpClient,
    FakeMetrics,
    FakeSvcUnitOfWork,
    push_request,
)

CONSUMER = "erp-connector-test"


def worker(
    uow: FakeSvcUnitOfWork, client: FakeErpClient, **policy: Any
) -> tuple[PushWorker, ConnectorControl, FakeMetrics]:
    values: dict[str, Any] = {
        "batch_size": 10,
        "concurrency": 2,
        "max_attempts": 3,
        "max_read_failures": 2,
        "retry_base_s": 5.0,
        "retry_cap_s": 5.0,
        "max_wait_in_run_s": 0.0,
        "lease_s": 30.0,
        "create_defaults": {"sort1": "101"},
        **policy,
    }
    metrics = FakeMetrics()
    control = ConnectorControl(lambda: uow, client, metrics, lambda: "fp", lambda fp: fp == "fp")
    outcomes = PushOutcomes(lambda: uow, CONSUMER)
    budget = RetryBudget(10.0, 1000.0)
    return (
        PushWorker(lambda: uow, client, control, metrics, budget, PushPolicy(**values), outcomes),
        control,
        metrics,
    )


async def test_enqueue_stores_new_requests_once_and_commits() -> None:
    uow = FakeSvcUnitOfWork()
    first = push_request("c-1", version=1)
    assert await enqueue(uow, [first, push_request("c-1", version=2), push_request("c-2")]) == 3
    assert await enqueue(uow, [first]) == 0  # a redelivery stores nothing new
    assert uow.committed == 2
    assert uow.pushes.rows["c-1"].latest_version == 2


async def test_enqueue_commits_nothing_when_the_store_fails() -> None:
    uow = FakeSvcUnitOfWork()

    async def broken(requests: object) -> int:
        raise OSError("database away")

    uow.pushes.enqueue = broken  # type: ignore[method-assign]
    with pytest.raises(OSError, match="database away"):
        await enqueue(uow, [push_request("c-1")])
    assert uow.committed == 0


async def test_a_new_customer_is_allocated_saved_verified_and_reported_synced() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient()
    await enqueue(uow, [push_request("c-1", "KH-9")])
    w, _, metrics = worker(uow, client)

    report = await w.run()

    assert (report.synced, report.dead, report.saves) == (1, 0, 1)
    assert client.calls == [
        "find_by_code",
        "find_by_name",
        "allocate_customer_id",
        "save_customer",
        "verify_customer",
    ]
    [erp_id] = client.saved
    assert client.saved[erp_id]["khid"] == "KH-9" and client.saved[erp_id]["sort1"] == "101"
    [completed] = uow.outbox.payloads(topics.ERP_CUSTOMER_PUSH_COMPLETED)
    assert (completed.customer_id, completed.result, completed.erp_id) == ("c-1", "synced", erp_id)
    assert uow.pushes.rows["c-1"].status == "synced" and metrics.pushes == {"synced": 1}
    assert uow.sync_logs.rows[-1][:2] == ("push", "success")


async def test_a_record_found_by_code_is_updated_without_allocating() -> None:
    uow = FakeSvcUnitOfWork()
    client = FakeErpClient([ErpCustomer(77, code="KH-7", name="旧名")])
    await enqueue(uow, [push_request("c-7", "KH-7", "新名")])
    w, _, _ = worker(uow, client)
    report = await w.run()
    assert report.synced == 1 and "allocate_customer_id" not in client.calls
    assert client.saved[77]["name"] == "新名"


async def test_a_business_refusal_dead_letters_the_original_command_and_marks_the_inbox_dead() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient()
    request = push_request("c-1")
    await enqueue(uow, [request])
    client.fail["save_customer"] = [BusinessError("客户名称重复", erp_status="500")]
    w, _, metrics = worker(uow, client)

    report = await w.run()

    assert (report.synced, report.dead) == (0, 1)
    [dead] = uow.dead_letters.published
    assert dead.topic == topics.dlq(topics.RULES_CUSTOMER_SYNC_REQUESTED) and dead.payload == request.command
    assert dead.headers["dlq-error-class"] == "BusinessError" and dead.headers["dlq-erp-status"] == "500"
    [completed] = uow.outbox.payloads(topics.ERP_CUSTOMER_PUSH_COMPLETED)
    assert (
        completed.result == "failed"
        and completed.erp_id is None
        and "客户名称重复" in (completed.error or "")
    )
    assert (CONSUMER, uuid.UUID(request.event_id)) in uow.inbox.dead
    assert uow.pushes.rows["c-1"].status == "dead" and metrics.pushes == {"dead": 1}
    assert [a.outcome for a in uow.pushes.attempts][-1] == "dead"


async def test_a_transient_failure_on_save_is_read_back_later_not_saved_again_at_once() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient()
    await enqueue(uow, [push_request("c-1")])
    client.fail["save_customer"] = [TransientError("timeout", maybe_applied=True)]
    w, _, _ = worker(uow, client)

    first = await w.run()
    row = uow.pushes.rows["c-1"]
    assert (first.retried, first.synced) == (1, 0)
    assert (row.status, row.stage.value, row.attempts) == ("pending", "verify", 1)
    assert 0 < row.due_at <= 5.0 and uow.outbox.published == []

    uow.pushes.now = 5.0  # due again; the lost save did not land, so the read-back finds nothing
    second = await w.run()
    assert second.synced == 0 and uow.pushes.rows["c-1"].stage.value == "write"  # saved again next time
    uow.pushes.now = 10.0
    third = await w.run()
    assert third.synced == 1 and client.calls.count("save_customer") == 2


async def test_a_worker_that_lost_its_lease_sends_nothing_more() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient()
    await enqueue(uow, [push_request("c-1")])
    uow.pushes.lose_lease.add("c-1")
    w, _, _ = worker(uow, client)
    report = await w.run()
    assert (report.lease_lost, report.synced) == (1, 0)
    assert client.calls == [] and uow.outbox.published == []


async def test_rejected_credentials_stop_the_connector_and_spend_no_attempt() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient([ErpCustomer(5, code="KH-1")])
    await enqueue(uow, [push_request("c-1")])
    client.fail["save_customer"] = [AuthError("用户名或密码错误")]
    w, control, _ = worker(uow, client)
    report = await w.run()
    assert report.error == "AuthError: 用户名或密码错误" and report.result == "failed"
    assert control.state is RunState.STOPPED_AUTH and uow.control.state.stopped_auth
    row = uow.pushes.rows["c-1"]
    assert (row.status, row.attempts) == ("pending", 0)


async def test_an_outcome_for_a_lost_claim_writes_nothing() -> None:
    uow = FakeSvcUnitOfWork()
    await enqueue(uow, [push_request("c-1")])
    [item] = await uow.pushes.claim(10, 30.0)
    uow.pushes.rows["c-1"].claim_token = "someone-else"
    outcomes = PushOutcomes(lambda: uow, CONSUMER)
    assert not await outcomes.synced(item)
    assert not await outcomes.dead(item, BusinessError("x"))
    assert uow.outbox.published == [] and uow.dead_letters.published == [] and not uow.inbox.dead
    assert uow.committed == 1  # the enqueue only
