"""Start and stop the hand-written baseline service (raw_service.py) on its own port, schema and topic."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import jwt

from bench.baselines import raw_sql
from bench.baselines.raw_produce import delete_topic, fresh_topic
from bench.common import admin
from tests.support.stack import KAFKA_BOOTSTRAP, PYTHON, ROOT, admin_dsn, private_log

PORT = int(os.environ.get("ROLLSYNC_BENCH_PORT_BASE", "38600")) + 90


@dataclass(frozen=True, slots=True)
class RawService:
    url: str
    token: str


def _token(secret: str) -> str:
    now = int(time.time())
    claims = {"iss": "raw", "aud": "raw", "iat": now, "nbf": now, "exp": now + 3600, "client_id": "bench"}
    return jwt.encode(
        {**claims, "scope": "sync:read contracts:write progress:write"}, secret, algorithm="HS256"
    )


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = private_log("bench-raw-service.log")
    return subprocess.Popen(
        [PYTHON, "-m", "bench.baselines.raw_service"], env=env, stdout=log, stderr=log, cwd=ROOT
    )


def _wait_ready(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "raw service did not start; see .local/logs/bench-raw-service.log"
                ) from None
        time.sleep(0.3)


@asynccontextmanager
async def raw_service() -> AsyncIterator[RawService]:
    conn = await admin()
    await conn.execute(raw_sql.CREATE)
    topic, secret = await fresh_topic(1), uuid.uuid4().hex
    env = {**os.environ, "RAW_PORT": str(PORT), "RAW_DSN": admin_dsn(), "RAW_KAFKA": KAFKA_BOOTSTRAP}
    proc = _spawn({**env, "RAW_TOPIC": topic, "RAW_JWT_SECRET": secret})
    try:
        url = f"http://127.0.0.1:{PORT}"
        await asyncio.to_thread(_wait_ready, proc, url)
        yield RawService(url, _token(secret))
    finally:
        proc.terminate()
        proc.wait(30)
        await delete_topic(topic)
        await conn.execute(f"DROP SCHEMA IF EXISTS {raw_sql.SCHEMA} CASCADE")
        await conn.close()
