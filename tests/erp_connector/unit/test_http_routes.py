"""The admin routes: scope checks, the trigger's direction, pause/resume, 409 while stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from common.web import install_error_handlers
from erp_connector.domain.control import ControlState, RunState
from erp_connector.entrypoints.context import Context
from erp_connector.entrypoints.http import router
from erp_connector.service_layer.scheduler import Job, SyncScheduler
from tests.support.tokens import TestSigner

SIGNER = TestSigner()


class FakeControl:
    def __init__(self) -> None:
        self.current = ControlState()
        self.resumed = 0

    @property
    def state(self) -> RunState:
        return self.current.state

    @property
    def running(self) -> bool:
        return self.state is RunState.RUNNING

    async def pause(self) -> None:
        self.current = self.current.pause("paused by operator")

    async def resume(self) -> None:
        self.resumed += 1
        self.current = self.current.resume()


class FakeWorker:
    stopped = 0

    def stop(self) -> None:
        self.stopped += 1


async def no_status() -> dict[str, Any]:
    return {}


def token(scope: str) -> dict[str, str]:
    return SIGNER.bearer(scope)


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, FakeControl, list[str]]]:
    ran: list[str] = []

    def job(name: str) -> Job:
        async def run() -> None:
            ran.append(name)

        return Job(name, 3600, run, on_start=False)

    control = FakeControl()
    scheduler = SyncScheduler([job("pull"), job("push")], lambda: control.running)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    verifier = SIGNER.verifier()
    app.state.ctx = Context(verifier, control, scheduler, FakeWorker(), no_status)  # type: ignore[arg-type]
    scheduler.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c") as client:
        yield client, control, ran
    await scheduler.stop()


async def test_routes_need_the_admin_scope(api: Any) -> None:
    client, _, _ = api
    assert (await client.post("/sync/erp/trigger", json={"direction": "pull"})).status_code == 401
    refused = await client.post(
        "/sync/erp/trigger", json={"direction": "pull"}, headers=token("customers:write")
    )
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert (await client.post("/sync/erp/pause", headers=token("sync:read"))).status_code == 403


@pytest.mark.parametrize("body", [{"direction": "sideways"}, {"direction": 1}, ["pull"], {"direction": None}])
async def test_anything_but_both_pull_or_push_is_a_422_with_a_stable_code(api: Any, body: object) -> None:
    client, _, ran = api
    r = await client.post("/sync/erp/trigger", json=body, headers=token("admin"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_direction"
    assert ran == []


async def test_a_trigger_starts_what_was_asked_at_once(api: Any) -> None:
    client, _, ran = api
    r = await client.post("/sync/erp/trigger", json={"direction": "push"}, headers=token("admin"))
    assert r.status_code == 202
    assert r.json() == {"direction": "push", "started": {"push": "started"}}
    await _until(lambda: ran == ["push"])
    both = await client.post("/sync/erp/trigger", headers=token("admin"))  # no body: both
    assert both.json()["started"].keys() == {"pull", "push"}
    await _until(lambda: sorted(ran) == ["pull", "push", "push"])


async def test_paused_connector_refuses_triggers_until_resumed(api: Any) -> None:
    client, control, ran = api
    paused = await client.post("/sync/erp/pause", headers=token("admin"))
    assert paused.json() == {"state": "paused", "reason": "paused by operator"}
    r = await client.post("/sync/erp/trigger", json={"direction": "both"}, headers=token("admin"))
    assert r.status_code == 409 and r.json()["code"] == "connector_paused"
    control.current = control.current.stop_auth("用户名或密码错误")
    r = await client.post("/sync/erp/trigger", json={"direction": "pull"}, headers=token("admin"))
    assert r.status_code == 409 and r.json()["code"] == "connector_stopped_auth"
    assert r.json()["details"]["reason"] == "用户名或密码错误"
    resumed = await client.post("/sync/erp/resume", headers=token("admin"))
    assert resumed.json() == {"state": "running"} and control.resumed == 1
    assert (
        await client.post("/sync/erp/trigger", json={"direction": "pull"}, headers=token("admin"))
    ).status_code == 202
    assert ran == [] or ran == ["pull"]


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")
