"""HTTP side: the robot relay Alertmanager posts to, and local stand-ins for the 企业微信 and 钉钉 robot servers.

The relay (POST /wecom, /dingtalk) takes Alertmanager's webhook JSON, renders the robot message and posts it to
the configured robot URL (the 钉钉 one signed). The stand-ins (the robots' real paths) check the message as the
robot would, verify 钉钉's signature, answer like the robot does and keep each message as a JSON file.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

from alert_sinks import robots


@dataclass(frozen=True)
class SinkConfig:
    folder: Path
    wecom_url: str  # where the relay sends 企业微信 messages (the real robot, or this app's stand-in)
    dingtalk_url: str
    dingtalk_secret: str  # 加签 secret; the stand-in verifies with the same one
    dashboard_url: str
    docs_base: str


class _Store:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._numbers = itertools.count(len(list(folder.glob("*.json"))) + 1)

    def keep(self, body: Any) -> None:
        path = self._folder / f"{next(self._numbers):05d}.json"
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1))
        tmp.rename(path)


def create_app(config: SinkConfig) -> FastAPI:
    app = FastAPI(title="rollsync alert sinks")
    wecom, dingtalk = _Store(config.folder / "wecom"), _Store(config.folder / "dingtalk")

    async def relay(url: str, message: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(url, json=message)
        return {"robot_status": answer.status_code, "robot_answer": answer.json()}

    @app.post("/wecom")
    async def relay_wecom(payload: dict[str, Any]) -> dict[str, Any]:
        text = robots.markdown(payload, config.dashboard_url, config.docs_base)
        return await relay(config.wecom_url, robots.wecom_message(text))

    @app.post("/dingtalk")
    async def relay_dingtalk(payload: dict[str, Any]) -> dict[str, Any]:
        text = robots.markdown(payload, config.dashboard_url, config.docs_base)
        url = robots.dingtalk_signed_url(config.dingtalk_url, config.dingtalk_secret, int(time.time() * 1000))
        return await relay(url, robots.dingtalk_message(robots.headline(payload), text))

    @app.post("/cgi-bin/webhook/send")
    async def wecom_robot(request: Request, key: str = "") -> dict[str, Any]:
        body = await request.json()
        problem = "invalid webhook key" if not key else robots.wecom_problem(body)
        if problem:
            return {"errcode": 93000, "errmsg": problem}
        wecom.keep(body)
        return {"errcode": 0, "errmsg": "ok"}

    @app.post("/robot/send")
    async def dingtalk_robot(
        request: Request, access_token: str = "", timestamp: str = "", sign: str = ""
    ) -> dict[str, Any]:
        body = await request.json()
        now_ms = int(time.time() * 1000)
        if not access_token or not robots.dingtalk_signature_ok(
            config.dingtalk_secret, timestamp, sign, now_ms
        ):
            return {"errcode": 310000, "errmsg": "sign not match"}
        problem = robots.dingtalk_problem(body)
        if problem:
            return {"errcode": 40035, "errmsg": problem}
        dingtalk.keep(body)
        return {"errcode": 0, "errmsg": "ok"}

    return app
