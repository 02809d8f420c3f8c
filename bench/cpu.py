"""CPU time of the processes a case involves, read with psutil (G9 and the import profile)."""

from __future__ import annotations

import psutil  # type: ignore[import-untyped]

from tests.support.stack import PG_PORT


def pids_listening(port: int) -> list[int]:
    return [
        c.pid
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
    ]


def family(pid: int) -> list[psutil.Process]:
    p = psutil.Process(pid)
    return [p, *p.children(recursive=True)]


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """User + system seconds; a process gone since it was listed counts for nothing."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def postgres() -> list[psutil.Process]:
    """The postmaster listening on our port and its children, re-read at each sample (backends come and go)."""
    return [p for pid in pids_listening(PG_PORT) for p in family(pid)]
