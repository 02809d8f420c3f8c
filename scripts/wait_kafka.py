"""Wait until a Kafka broker answers a real metadata request (used by scripts/kafka.sh).

Usage: wait_kafka.py [--bootstrap 127.0.0.1:19092] [--timeout 90] [--pid PID]

Exit codes: 0 ready (prints cluster id, controller and broker count), 1 deadline passed,
3 the process PID died while waiting, 4 aiokafka not importable (run `uv sync`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from typing import Any

try:
    from aiokafka.admin import AIOKafkaAdminClient
except ImportError as _exc:  # the workspace venv is missing or not synced
    print(
        f"wait_kafka: cannot import aiokafka ({_exc}); run 'uv sync' in the repo root first", file=sys.stderr
    )
    sys.exit(4)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


async def _probe(bootstrap: str, timeout_s: float) -> dict[str, Any]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="rollsync-wait-kafka",
        request_timeout_ms=max(1000, int(timeout_s * 1000)),
        retry_backoff_ms=100,
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        return await asyncio.wait_for(admin.describe_cluster(), timeout_s)
    finally:
        # best-effort cleanup of a probe client
        with contextlib.suppress(Exception):
            await asyncio.wait_for(admin.close(), 5)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=f"127.0.0.1:{os.environ.get('ROLLSYNC_KAFKA_PORT', '19092')}")
    parser.add_argument("--timeout", type=float, default=90.0, help="overall deadline in seconds")
    parser.add_argument("--pid", type=int, default=None, help="give up early if this process dies")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.add_argument("--check-import", action="store_true", help="only check that aiokafka imports")
    args = parser.parse_args()
    if args.check_import:
        return 0

    # aiokafka logs every refused connection with a traceback; we report the outcome ourselves.
    logging.basicConfig(level=logging.CRITICAL)

    deadline = time.monotonic() + args.timeout
    last_error = "no attempt made"
    attempt = 0
    while True:
        if args.pid is not None and not _pid_alive(args.pid):
            print(f"wait_kafka: broker process {args.pid} exited", file=sys.stderr)
            return 3
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        attempt += 1
        try:
            meta = await _probe(args.bootstrap, min(10.0, max(1.0, remaining)))
            brokers = meta.get("brokers") or []
            if not brokers:
                raise RuntimeError("metadata response lists no brokers yet")
            if meta.get("controller_id", -1) in (None, -1):
                raise RuntimeError("metadata response has no controller yet")
            if not args.quiet:
                hosts = ", ".join(f"{b['node_id']}@{b['host']}:{b['port']}" for b in brokers)
                print(
                    f"kafka ready at {args.bootstrap}: cluster_id={meta.get('cluster_id')} "
                    f"controller_id={meta.get('controller_id')} brokers={len(brokers)} [{hosts}] "
                    f"(attempt {attempt})"
                )
            return 0
        except Exception as exc:  # any failure means "not ready yet"
            last_error = f"{type(exc).__name__}: {exc}".strip()
        await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    print(
        f"wait_kafka: no metadata from {args.bootstrap} within {args.timeout:.0f}s "
        f"({attempt} attempts; last error: {last_error})",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
