"""The connector's run state: running, paused by an operator, or stopped on rejected credentials."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RunState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED_AUTH = "stopped_auth"


@dataclass(frozen=True, slots=True)
class ControlState:
    paused: bool = False
    stopped_auth: bool = False
    reason: str | None = None

    @property
    def state(self) -> RunState:
        # A credentials stop outranks a pause: resuming must not hide that the password is wrong.
        if self.stopped_auth:
            return RunState.STOPPED_AUTH
        return RunState.PAUSED if self.paused else RunState.RUNNING

    def pause(self, reason: str) -> ControlState:
        return ControlState(True, self.stopped_auth, self.reason if self.stopped_auth else reason)

    def stop_auth(self, reason: str) -> ControlState:
        return ControlState(self.paused, True, reason)

    def resume(self) -> ControlState:
        return ControlState()

    def credentials_changed(self) -> ControlState:
        """New credentials lift a credentials stop; an operator's pause stays."""
        if not self.stopped_auth:
            return self
        return ControlState(self.paused, False, "paused by operator" if self.paused else None)
