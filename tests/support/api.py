"""A small client for the edge API as seed 000's client uses it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from ingest.domain.clients import hash_secret
from tests.support.stack import PYTHON, ROOT, service_env

ALL_SCOPES = ["contracts:write", "progress:write", "customers:write", "sync:read", "admin"]


async def create_client(
    admin: asyncpg.Connection,
    scopes: list[str] | None = None,
    *,
    per_minute: int = 100_000,
    per_day: int = 10_000_000,
    rows_per_day: int = 10_000_000,
) -> tuple[str, str]:
    client_id, secret = f"test-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex + uuid.uuid4().hex
    await admin.execute(
        "INSERT INTO ingest.clients"
        " (client_id, secret_hash, scopes, rate_per_minute, rate_per_day, rows_per_day)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        client_id,
        hash_secret(secret),
        scopes or ALL_SCOPES,
        per_minute,
        per_day,
        rows_per_day,
    )
    return client_id, secret


async def login(http: httpx.AsyncClient, ingest_url: str, client_id: str, secret: str) -> str:
    r = await http.post(
        f"{ingest_url}/auth/system-login",
        json={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def ingest_cli(*args: str) -> str:
    """`python -m ingest.entrypoints.cli ARGS` with the tests' ingest environment, as an operator runs it."""
    done = subprocess.run(
        [PYTHON, "-m", "ingest.entrypoints.cli", *args],
        env={**os.environ, **service_env("ingest")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(probe: Callable[[], Awaitable[Any]], timeout_s: float = 60, every_s: float = 0.2) -> Any:
    """Poll until `probe` returns a truthy value; fail with the last value seen."""
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s}s; last value: {last!r}")
