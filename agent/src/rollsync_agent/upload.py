"""Send changed and deleted lines in batches; a line counts as synced only when the cloud accepted it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rollsync_agent.cloud import CloudClient, CloudRefusedError, idempotency_key
from rollsync_agent.rows import CONTRACT_NO, PRODUCT_ID, Key, Row, upload_row
from rollsync_agent.state import StateStore

PATH = "/sync/contracts/batch"


@dataclass(frozen=True)
class Change:
    key: Key
    hash: str
    row: Row | None  # None: the line disappeared locally
    known_hash: str | None = None  # what the cloud had, part of the idempotency key


@dataclass
class Outcome:
    accepted: list[Key] = field(default_factory=list)
    deleted: list[Key] = field(default_factory=list)
    rejected: list[tuple[Key, str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # whole batches the cloud refused (HTTP 4xx)

    @property
    def sent(self) -> int:
        return len(self.accepted) + len(self.deleted) + len(self.rejected)

    def add(self, other: Outcome) -> None:
        self.accepted += other.accepted
        self.deleted += other.deleted
        self.rejected += other.rejected
        self.refused += other.refused


def _body(changes: list[Change]) -> bytes:
    doc: dict[str, Any] = {
        "contracts": [upload_row(c.row) for c in changes if c.row is not None],
        "overwrite": True,
        "source": "local_system",
    }
    deleted = [{CONTRACT_NO: c.key[0], PRODUCT_ID: c.key[1]} for c in changes if c.row is None]
    if deleted:
        doc["deleted"] = deleted
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _outcome(changes: list[Change], answer: dict[str, Any]) -> Outcome:
    """Match results by index (the cloud normalises keys, so keys may not compare equal)."""
    rows = [c for c in changes if c.row is not None]
    gone = [c for c in changes if c.row is None]
    out = Outcome()
    for part, items in ((answer.get("results") or [], rows), (answer.get("deleted_results") or [], gone)):
        for r in part:
            change = items[int(r["index"])]
            if r["status"] == "rejected":
                out.rejected.append((change.key, str(r.get("reason", "")), str(r.get("message", ""))))
            elif change.row is None:
                out.deleted.append(change.key)
            else:
                out.accepted.append(change.key)
    return out


def send_batch(client: CloudClient, state: StateStore, changes: list[Change]) -> Outcome:
    body = _body(changes)
    context = ",".join(f"{c.key[0]}/{c.key[1]}={c.known_hash}" for c in changes)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key(client.api.client_id, body, context),
    }
    answer = client.call("POST", PATH, content=body, headers=headers).json()
    out = _outcome(changes, answer)
    by_key = {c.key: c for c in changes}
    state.mark_accepted([(k, by_key[k].hash) for k in out.accepted])
    state.forget(out.deleted)
    state.mark_rejected([(k, by_key[k].hash, reason, msg) for k, reason, msg in out.rejected])
    return out


def send_all(client: CloudClient, state: StateStore, changes: list[Change], batch_size: int) -> Outcome:
    """Batch after batch; a batch the cloud refuses as a whole is reported and the others still go."""
    total = Outcome()
    for start in range(0, len(changes), batch_size):
        try:
            total.add(send_batch(client, state, changes[start : start + batch_size]))
        except CloudRefusedError as exc:
            total.refused.append(str(exc))
    return total
