"""Fault injection for the reliability scenarios (DELIVERY.md §12): real signals, real restarts.

Every random choice comes from one seed (`--seed` or ROLLSYNC_FAULT_SEED), printed on failure, so a failing run
reproduces its workload and its fault schedule. Sizes come from the environment: `make soak` sets
ROLLSYNC_SOAK=1 and the same tests run at nightly size.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.support.stack import ROOT, ServiceProcess

SOAK = os.environ.get("ROLLSYNC_SOAK") == "1"
SCENARIO_TIMEOUT_S = 3600 if SOAK else 600  # pytest-timeout per scenario (the suite's default is 300 s)


def size(pr: int, nightly: int, env: str) -> int:
    """A scenario's size: PR size in `make test`, nightly size under `make soak`, or an explicit override."""
    return int(os.environ.get(env, nightly if SOAK else pr))


def _script(*args: str) -> None:
    """Run one of the project's infrastructure scripts; a fault that cannot be injected fails the test."""
    out = subprocess.run(
        [str(ROOT / "scripts" / args[0]), *args[1:]], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise AssertionError(f"scripts/{' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")


@dataclass
class FaultInjector:
    """Injects one fault at a time and keeps the account of what it did and when."""

    seed: int
    services: dict[str, ServiceProcess]
    rng: random.Random = field(init=False)
    counts: Counter[str] = field(default_factory=Counter)
    journal: list[str] = field(default_factory=list)
    last_fault_at: float = 0.0
    _restarts: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _note(self, kind: str, what: str) -> None:
        self.counts[kind] += 1
        self.last_fault_at = time.monotonic()
        self.journal.append(f"t+{self.last_fault_at - self._started:6.1f}s {kind}: {what}")

    async def kill_random(self, names: tuple[str, ...]) -> str:
        """SIGKILL a random one of `names` by pid and start a fresh one in the background.

        The next kill picks among processes that are up (waiting only when none is), so the cadence stays
        7±3 s however slow start-ups are on a loaded machine; the victims then depend on timing, not only on the seed.
        """
        ready = [n for n in names if n not in self._restarts or self._restarts[n].done()]
        if not ready:
            await asyncio.wait(self._restarts.values(), return_when=asyncio.FIRST_COMPLETED)
            ready = [n for n in names if self._restarts[n].done()]
        name = self.rng.choice(ready)
        if name in self._restarts:
            await self._restarts.pop(name)  # done: surfaces a failed start
        victim = self.services[name]
        pid = victim.proc.pid if victim.proc else None
        victim.kill()
        self._note("sigkill", f"{name} pid {pid}")
        self._restarts[name] = asyncio.create_task(self._restart(name, victim.extra_env))
        return name

    async def _restart(self, name: str, extra_env: dict[str, str]) -> None:
        self.services[name] = await asyncio.to_thread(ServiceProcess(name, extra_env).start, 180)

    async def settle(self) -> None:
        """Wait for every background restart (before an infrastructure fault, and before judging)."""
        while self._restarts:
            await self._restarts.pop(next(iter(self._restarts)))

    async def crash_postgres(self) -> None:
        """`pg_ctl stop -m immediate` (no checkpoint: WAL recovery on start) and a start on the same data dir."""
        await self.settle()
        await asyncio.to_thread(_script, "postgres.sh", "crash")
        self._note("postgres_immediate_stop", "pg_ctl stop -m immediate")
        await asyncio.to_thread(_script, "postgres.sh", "start")

    async def crash_broker(self, down_s: float = 0.0) -> None:
        """SIGKILL the broker, keep it down `down_s`, restart it on the same log dirs."""
        await self.settle()
        await asyncio.to_thread(_script, "kafka.sh", "kill")
        self._note("broker_sigkill", f"down {down_s:.0f}s")
        await asyncio.sleep(down_s)
        await asyncio.to_thread(_script, "kafka.sh", "start")
        self.last_fault_at = time.monotonic()

    async def restart_dead_services(self) -> None:
        """A service that exited on its own during an outage is a finding, but recovery must still be judged."""
        await self.settle()
        for name, proc in list(self.services.items()):
            if proc.proc is not None and proc.proc.poll() is not None:
                self.journal.append(f"{name} had exited by itself with {proc.proc.returncode}; restarted")
                self.counts["exited_by_itself"] += 1
                self.services[name] = await asyncio.to_thread(ServiceProcess(name, proc.extra_env).start, 120)

    def summary(self) -> str:
        return f"seed={self.seed} faults={dict(self.counts)}\n" + "\n".join(self.journal)


def figures(scenario: str, rows: dict[str, object]) -> str:
    """The soak table: one line per figure, printed by every scenario (pytest -s / the -rA report shows it)."""
    width = max(len(k) for k in rows)
    lines = [f"== {scenario} =="] + [f"  {k.ljust(width)}  {v}" for k, v in rows.items()]
    text = "\n".join(lines)
    print(text)  # noqa: T201 - the soak's figures are its output
    return text
