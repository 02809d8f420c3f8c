"""Daily reconciliation: a digest of the local table per contract (TEAM.md contract point 5)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine

from rollsync_agent.cloud import CloudClient
from rollsync_agent.factory_db import LineTable, iter_rows
from rollsync_agent.rows import CONTRACT_NO, digest_contract, digest_line, key_of
from rollsync_agent.state import StateStore, now_iso

PATH = "/sync/reconciliation"


def digest(engine: Engine, lines: LineTable, state: StateStore) -> list[dict[str, Any]]:
    """Per contract: line count and the hash of its sorted line hashes (process columns as the cloud has them)."""
    cloud = state.cloud_status()
    per_contract: dict[str, list[str]] = defaultdict(list)
    for row in iter_rows(engine, lines):
        per_contract[str(row[CONTRACT_NO])].append(digest_line(row, cloud.get(key_of(row), {})))
    return [
        {CONTRACT_NO: no, "lines": len(hashes), "hash": digest_contract(hashes)}
        for no, hashes in sorted(per_contract.items())
    ]


def reconcile(engine: Engine, lines: LineTable, state: StateStore, client: CloudClient) -> dict[str, Any]:
    body = {"contracts": digest(engine, lines, state), "complete": True}
    answer: dict[str, Any] = client.call("POST", PATH, json=body).json()
    state.put(last_reconcile_at=now_iso(), last_reconcile=answer)
    return answer
