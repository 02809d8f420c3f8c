"""Local stand-ins for the 企业微信 and 钉钉 robot servers, which services/alert-relay posts to in development.

They serve the robots' real paths, check the message as the robot would, verify 钉钉's 加签 signature, answer
like the robot does and keep each accepted message as a JSON file.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from alert_sinks import robots


@dataclass(frozen=True)
class SinkConfig:
    folder: Path
    dingtalk_secret: str  # the 加签 secret the relay signs with; the stand-in verifies with the same one


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
