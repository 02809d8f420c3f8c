"""GET /sync/erp/status's document, on fakes."""

from __future__ import annotations

from erp_connector.domain.errors import AuthError
from erp_connector.service_layer.control import ConnectorControl
from erp_connector.service_layer.push import enqueue
from erp_connector.service_layer.scheduler import SyncScheduler
from erp_connector.service_layer.status import sync_status
from tests.erp_connector.fakes import FakeErpClient, FakeMetrics, FakeSvcUnitOfWork, push_request


async def test_status_sums_failed_runs_and_dead_pushes_and_shows_the_login_rejection() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient()
    await uow.sync_logs.add("pull", "success", {"seen": 3})
    await uow.sync_logs.add("push", "failed", {"synced": 0})
    uow.sync_logs.dead_pushes = 2
    await enqueue(uow, [push_request("c-1"), push_request("c-2")])
    client.auth_error = AuthError("用户名或密码错误")
    control = ConnectorControl(lambda: uow, client, FakeMetrics(), lambda: "fp", lambda fp: True)

    status = await sync_status(lambda: uow, control, client, SyncScheduler([], lambda: True), 3.14159)

    assert status["failures_last_hour"] == 3 and status["failures_last_hour_detail"] == {
        "runs": 1,
        "pushes": 2,
    }
    assert (
        status["last_pull"] == {"result": "success", "seen": 3} and status["last_push"]["result"] == "failed"
    )
    assert status["backlog"]["queued"] == 2
    assert status["login_rejected"] == {"class": "AuthError", "message": "用户名或密码错误"}
    assert status["breaker"] == {"state": "closed", "retry_in_s": 0.0} and status["rate_limit_tokens"] == 3.14
