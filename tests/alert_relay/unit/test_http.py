"""POST /wecom and /dingtalk through the real app and HTTP client, with a fake robot behind the transport."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from alert_relay.config import Settings
from alert_relay.main import create_app
from alert_sinks import robots

TOKEN = "wecom-key-0123456789"
PAYLOAD = {
    "status": "firing",
    "commonLabels": {"alertname": "RollsyncServiceDown", "severity": "page"},
    "alerts": [{"status": "firing", "labels": {"service": "ingest"}, "annotations": {"summary": "ingest is down"},
                "startsAt": "2026-12-04T20:00:00Z"}],
}  # fmt: skip


class FakeRobots:
    def __init__(self, answer: dict[str, Any], status: int = 200) -> None:
        self.answer, self.status = answer, status
        self.received: list[tuple[httpx.URL, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append((request.url, json.loads(request.content)))
        return httpx.Response(self.status, json=self.answer)


async def _post(robot_fake: FakeRobots, path: str, settings: Settings) -> httpx.Response:
    app = create_app(settings, transport=httpx.MockTransport(robot_fake))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://relay") as client,
    ):
        answer = await client.post(path, json=PAYLOAD)
        answer.metrics = (await client.get("/metrics")).text  # type: ignore[attr-defined]
        return answer


def _settings(**values: Any) -> Settings:
    return Settings.model_validate({"env": "dev", **values})


async def test_a_notification_reaches_the_wecom_robot_as_markdown_and_no_log_shows_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeRobots({"errcode": 0, "errmsg": "ok"})
    with caplog.at_level(logging.DEBUG):
        answer = await _post(
            fake, "/wecom", _settings(wecom_url=f"https://qyapi.weixin.qq.com/x?key={TOKEN}")
        )
    assert TOKEN not in caplog.text  # httpx logs request URLs at INFO (seen in an e2e run's relay log)
    assert answer.status_code == 200 and answer.json() == {"status": "sent"}
    [(url, body)] = fake.received
    assert url.params["key"] == TOKEN
    assert robots.wecom_problem(body) is None
    assert body["markdown"]["content"].startswith("### rollsync 告警 firing: RollsyncServiceDown")
    assert 'rollsync_alert_relay_messages_total{outcome="sent",robot="wecom"} 1.0' in answer.metrics  # type: ignore[attr-defined]


async def test_the_dingtalk_url_is_signed_with_the_secret() -> None:
    fake = FakeRobots({"errcode": 0, "errmsg": "ok"})
    settings = _settings(
        dingtalk_url="https://oapi.dingtalk.com/robot/send?access_token=T", dingtalk_secret="SECxyz"
    )
    answer = await _post(fake, "/dingtalk", settings)
    assert answer.status_code == 200
    [(url, body)] = fake.received
    query = {k: v[0] for k, v in parse_qs(urlsplit(str(url)).query).items()}
    assert robots.dingtalk_signature_ok("SECxyz", query["timestamp"], query["sign"], int(query["timestamp"]))
    assert body["markdown"]["title"] == "rollsync 告警 firing: RollsyncServiceDown"


async def test_a_refusing_robot_is_a_502_so_alertmanager_retries_and_the_token_is_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeRobots({"errcode": 93000, "errmsg": "invalid webhook url"})
    with caplog.at_level(logging.ERROR):
        answer = await _post(
            fake, "/wecom", _settings(wecom_url=f"https://qyapi.weixin.qq.com/x?key={TOKEN}")
        )
    assert answer.status_code == 502
    assert "errcode 93000" in answer.json()["error"]
    assert TOKEN not in answer.text and TOKEN not in caplog.text
    assert 'rollsync_alert_relay_messages_total{outcome="failed",robot="wecom"} 1.0' in answer.metrics  # type: ignore[attr-defined]


async def test_an_unreachable_robot_is_a_502_without_the_url() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    app = create_app(
        _settings(wecom_url=f"https://qyapi.weixin.qq.com/x?key={TOKEN}"), transport=httpx.MockTransport(down)
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c,
    ):
        answer = await c.post("/wecom", json=PAYLOAD)
    assert answer.status_code == 502 and TOKEN not in answer.text
    assert answer.json()["error"] == "wecom: no answer (ConnectError)"


async def test_a_robot_that_is_not_configured_is_skipped_with_200() -> None:
    fake = FakeRobots({"errcode": 0})
    answer = await _post(fake, "/dingtalk", _settings(wecom_url=f"https://qyapi.weixin.qq.com/x?key={TOKEN}"))
    assert answer.status_code == 200 and answer.json() == {"status": "not_configured"}
    assert not fake.received
