"""Run state on fakes: persisted pause/resume/stop, and a credentials stop that survives restarts."""

from __future__ import annotations

from erp_connector.domain.control import ControlState, RunState
from erp_connector.service_layer.control import ConnectorControl
from tests.erp_connector.fakes import FakeErpClient, FakeMetrics, FakeSvcUnitOfWork


def control(uow: FakeSvcUnitOfWork, client: FakeErpClient, current_fp: str = "fp-now") -> ConnectorControl:
    return ConnectorControl(
        lambda: uow, client, FakeMetrics(), lambda: current_fp, lambda fp: fp == current_fp
    )


async def test_a_credentials_stop_made_on_the_same_credentials_survives_a_restart() -> None:
    uow = FakeSvcUnitOfWork()
    uow.control.state, uow.control.fingerprint = ControlState(stopped_auth=True, reason="密码错误"), "fp-now"
    c = control(uow, FakeErpClient())
    await c.load()
    assert c.state is RunState.STOPPED_AUTH and not c.running
    assert uow.control.saves == 0 and uow.committed == 0


async def test_new_credentials_lift_a_credentials_stop_on_load_and_persist_it() -> None:
    uow = FakeSvcUnitOfWork()
    uow.control.state, uow.control.fingerprint = ControlState(stopped_auth=True, reason="密码错误"), "fp-old"
    c = control(uow, FakeErpClient())
    await c.load()
    assert c.running and uow.control.state == ControlState() and uow.control.fingerprint is None
    assert uow.committed == 1


async def test_pause_resume_and_stop_are_persisted_with_the_fingerprint_only_while_stopped() -> None:
    uow, client = FakeSvcUnitOfWork(), FakeErpClient()
    metrics = FakeMetrics()
    c = ConnectorControl(lambda: uow, client, metrics, lambda: "fp-now", lambda fp: fp == "fp-now")
    await c.pause()
    assert uow.control.state.paused and metrics.state == "paused"
    await c.stop_auth("用户名或密码错误")
    assert (uow.control.state.state, uow.control.fingerprint) == (RunState.STOPPED_AUTH, "fp-now")
    await c.stop_auth("again")  # already stopped: nothing new written
    assert uow.control.saves == 2
    await c.resume()
    assert c.running and client.resets == 1 and uow.control.fingerprint is None
    assert uow.committed == 3 and metrics.state == "running"
