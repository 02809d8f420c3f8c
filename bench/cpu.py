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


def tree_cpu_seconds(pid: int) -> float:
    """User + system seconds of a process and every descendant, those that have exited included.

    A backend that exits between two readings must not take its CPU with it (G9 once read -3.01): the kernel
    adds a reaped child's time, its own reaped children's included, to its parent's `children_*` fields, so
    the live processes' own times plus their `children_*` never go down. Children are read before the parent:
    one exiting in between is counted twice for that reading rather than not at all.
    """
    root = psutil.Process(pid)
    total = 0.0
    for p in [*root.children(recursive=True), root]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def postgres_cpu_seconds() -> float:
    """The postmaster listening on our port and every backend it has run, re-read at each sample."""
    return sum(tree_cpu_seconds(pid) for pid in pids_listening(PG_PORT))
