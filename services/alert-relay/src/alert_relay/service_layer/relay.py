"""Relay one Alertmanager notification to one group robot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alert_relay.domain import messages

if TYPE_CHECKING:
    from collections.abc import Callable

    from alert_relay.service_layer.ports import AbstractRobotSender


@dataclass(frozen=True)
class Robots:
    """Where the messages go (URLs with their tokens: secrets) and what the links in them point at."""

    wecom_url: str | None
    dingtalk_url: str | None
    dingtalk_secret: str | None
    dashboard_url: str
    docs_base: str


class Relay:
    def __init__(self, robots: Robots, sender: AbstractRobotSender, clock_ms: Callable[[], int]) -> None:
        self._robots, self._sender, self._clock_ms = robots, sender, clock_ms

    def configured(self) -> list[str]:
        return [
            name
            for name, url in (("wecom", self._robots.wecom_url), ("dingtalk", self._robots.dingtalk_url))
            if url
        ]

    async def to_wecom(self, payload: dict[str, Any]) -> bool:
        """False when no 企业微信 robot is configured (nothing sent); raises RobotRefusedError on failure."""
        if not self._robots.wecom_url:
            return False
        text = messages.markdown(
            messages.notification(payload), self._robots.dashboard_url, self._robots.docs_base
        )
        await self._sender.send("wecom", self._robots.wecom_url, messages.wecom_message(text))
        return True

    async def to_dingtalk(self, payload: dict[str, Any]) -> bool:
        """False when no 钉钉 robot is configured; the URL is signed (加签) at send time, valid one hour."""
        if not self._robots.dingtalk_url or not self._robots.dingtalk_secret:
            return False
        note = messages.notification(payload)
        text = messages.markdown(note, self._robots.dashboard_url, self._robots.docs_base)
        url = messages.dingtalk_signed_url(
            self._robots.dingtalk_url, self._robots.dingtalk_secret, self._clock_ms()
        )
        await self._sender.send("dingtalk", url, messages.dingtalk_message(messages.headline(note), text))
        return True
