"""bench/cpu.py: a process tree's CPU time does not go down when a child exits (G9 once read a negative ratio)."""

from __future__ import annotations

import subprocess
import sys

from bench.cpu import tree_cpu_seconds

BURN_S = 0.3
CHILD = f"""
import sys, time
start = time.process_time()
while time.process_time() - start < {BURN_S}:
    pass
print("burned", flush=True)
sys.stdin.readline()
"""
PARENT = f"""
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
child.stdout.readline()
print("burned", flush=True)
sys.stdin.readline()
child.stdin.write("\\n")
child.stdin.flush()
child.wait()
print("reaped", flush=True)
sys.stdin.readline()
"""


def test_a_reaped_childs_cpu_stays_counted() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdin is not None and parent.stdout is not None
    try:
        assert parent.stdout.readline().strip() == "burned"
        while_alive = tree_cpu_seconds(parent.pid)
        parent.stdin.write("\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "reaped"
        after_exit = tree_cpu_seconds(parent.pid)
    finally:
        parent.kill()
        parent.wait()
    assert while_alive >= BURN_S  # the live child is counted
    assert after_exit >= while_alive - 1e-9  # and its time is not lost when it exits (1e-9: float sums)
