"""The robots' HTTP API (企业微信 and 钉钉 answer HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` on success)."""

from __future__ import annotations

from typing import Any

import httpx

from alert_relay.domain.errors import RobotRefusedError


class HttpRobotSender:
    """AbstractRobotSender over httpx."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def send(self, robot: str, url: str, message: dict[str, Any]) -> None:
        try:
            answer = await self._client.post(url, json=message)
        except httpx.HTTPError as exc:  # the URL holds the token: name the error type only
            raise RobotRefusedError(f"{robot}: no answer ({type(exc).__name__})") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        errcode = body.get("errcode") if isinstance(body, dict) else None
        if answer.status_code != httpx.codes.OK or errcode != 0:
            errmsg = str(body.get("errmsg", "")) if isinstance(body, dict) else ""
            raise RobotRefusedError(f"{robot}: HTTP {answer.status_code}, errcode {errcode}, {errmsg[:200]}")
