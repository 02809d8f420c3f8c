"""Read the cloud the way the mini-program does, to compare it with the factory's table line by line."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import httpx

from rollsync_agent.rows import upload_row
from tests.support.agent_factory import PROCESSES

BASICS = (("甲方", "party_a"), ("产品名称", "product_name"), ("合同状态", "contract_status"))


async def token(http: httpx.AsyncClient, base: str, client_id: str, secret: str) -> dict[str, str]:
    r = await http.post(
        f"{base}/auth/system-login",
        json={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def cloud_lines(
    http: httpx.AsyncClient, base: str, auth: dict[str, str], contracts: list[str]
) -> dict[tuple[str, str], dict[str, Any]]:
    sem = asyncio.Semaphore(6)

    async def one(no: str) -> list[dict[str, Any]]:
        async with sem:
            r = await http.get(f"{base}/contracts/{no}", headers=auth)
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return [{**x, "合同编号": no} for x in r.json()["lines"]]

    parts = await asyncio.gather(*(one(no) for no in contracts))
    return {(x["合同编号"], x["product_id"]): x for part in parts for x in part}


def differences(
    local: dict[tuple[str, str], dict[str, Any]], cloud: dict[tuple[str, str], dict[str, Any]]
) -> list[str]:
    """Empty when every local line is in the cloud with the same basics and process status, and no other."""
    out = [f"missing in cloud: {k}" for k in local.keys() - cloud.keys()]
    out += [f"only in cloud: {k}" for k in cloud.keys() - local.keys()]
    for key in local.keys() & cloud.keys():
        row, line = upload_row(local[key]), cloud[key]
        out += [
            f"{key} {col}: {row.get(col)!r} != {line.get(f)!r}"
            for col, f in BASICS
            if row.get(col) != line.get(f)
        ]
        status = {
            p["process"]: p.get("reported_status") or p.get("uploaded_status") for p in line["processes"]
        }
        for process in PROCESSES:
            if row.get(process) != status.get(process):
                out.append(f"{key} {process}: local {row.get(process)!r} != cloud {status.get(process)!r}")
    return out


def contracts_of(keys: Any) -> list[str]:
    by: dict[str, int] = defaultdict(int)
    for no, _ in keys:
        by[no] += 1
    return sorted(by)


async def wait_until_equal(probe: Any, timeout_s: float, every_s: float = 2) -> None:
    """Poll `probe()` (a list of differences) until it is empty; fail showing the last differences."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    diffs: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        diffs = await probe()
        if not diffs:
            return
        await asyncio.sleep(every_s)
    raise AssertionError(f"{len(diffs)} differences after {timeout_s}s, e.g. {diffs[:10]}")
