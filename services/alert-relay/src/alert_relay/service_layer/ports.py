"""What the relay needs from the outside world."""

from __future__ import annotations

from typing import Any, Protocol


class AbstractRobotSender(Protocol):
    async def send(self, robot: str, url: str, message: dict[str, Any]) -> None:
        """Post one message; raise domain.errors.RobotRefusedError unless the robot accepted it."""
