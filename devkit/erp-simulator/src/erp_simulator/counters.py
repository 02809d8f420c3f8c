"""What the simulator saw, for ``GET /_sim/state`` and test assertions."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counters:
    requests_by_path: Counter[str] = field(default_factory=Counter)
    logins: int = 0
    failed_logins: int = 0
    # Saves that passed validation; saves_applied excludes silent drops.
    saves: int = 0
    saves_applied: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)

    def fault(self, kind: str) -> None:
        self.faults_injected[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests_by_path": dict(self.requests_by_path),
            "requests_total": sum(self.requests_by_path.values()),
            "logins": self.logins,
            "failed_logins": self.failed_logins,
            "saves": self.saves,
            "saves_applied": self.saves_applied,
            "faults_injected": dict(self.faults_injected),
        }
