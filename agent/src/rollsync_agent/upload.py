"""Send changed and deleted lines in batches; a line counts as synced only when the cloud accepted it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rollsync_agent.cloud import CloudClient, CloudRefusedError, idempotency_key
from rollsync_agent.rows import CONTRACT_NO, PRODUCT_ID, Key, Row
from rollsync_agent.state import StateStore

PATH = "/sync/contracts/batch"


@dataclass(frozen=True)
class Change:
    key: Key
    hash: str
    row: Row | None  # the uploaded form (rows.upload_form); None: the line disappeared locally
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
        "contracts": [c.row for c in changes if c.row is not None],
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


@dataclass(frozen=True)
class Batch:
    """A batch ready to POST: body and Idempotency-Key computed (off the in-flight request's critical path)."""

    changes: list[Change]
    body: bytes
    key: str


def prepare(client: CloudClient, changes: list[Change]) -> Batch:
    body = _body(changes)
    context = ",".join(f"{c.key[0]}/{c.key[1]}={c.known_hash}" for c in changes)
    return Batch(changes, body, idempotency_key(client.api.client_id, body, context))


def post(client: CloudClient, state: StateStore, batch: Batch) -> Outcome:
    """One POST; only the lines the cloud's answer accepts are recorded as synced."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": batch.key}
    answer = client.call("POST", PATH, content=batch.body, headers=headers).json()
    out = _outcome(batch.changes, answer)
    by_key = {c.key: c for c in batch.changes}
    state.mark_accepted([(k, by_key[k].hash) for k in out.accepted])
    state.forget(out.deleted)
    state.mark_rejected([(k, by_key[k].hash, reason, msg) for k, reason, msg in out.rejected])
    return out


def send_batch(client: CloudClient, state: StateStore, changes: list[Change]) -> Outcome:
    return post(client, state, prepare(client, changes))


def chunked(changes: Iterable[Change], size: int) -> Iterator[list[Change]]:
    chunk: list[Change] = []
    for c in changes:
        chunk.append(c)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def send_stream(
    client: CloudClient,
    state: StateStore,
    batches: Iterable[list[Change]],
    *,
    keep_going: bool = False,
    sent: Callable[[int], None] | None = None,
) -> Outcome:
    """Batches in order, one POST in flight while the next batch is read and encoded (never more: an
    interruption leaves at most one prepared batch unsent, and nothing unconfirmed is marked synced).
    `keep_going`: a batch the cloud refuses as a whole is reported and the others still go."""
    total = Outcome()

    def collect(flight: Future[Outcome], size: int) -> None:
        try:
            total.add(flight.result())
        except CloudRefusedError as exc:
            if not keep_going:
                raise
            total.refused.append(str(exc))
        if sent is not None:
            sent(size)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollsync-upload") as pool:
        flight: tuple[Future[Outcome], int] | None = None
        for changes in batches:
            batch = prepare(client, changes)
            if flight is not None:
                collect(*flight)
            flight = (pool.submit(post, client, state, batch), len(changes))
        if flight is not None:
            collect(*flight)
    return total


def send_all(client: CloudClient, state: StateStore, changes: list[Change], batch_size: int) -> Outcome:
    """Batch after batch; a batch the cloud refuses as a whole is reported and the others still go."""
    return send_stream(client, state, chunked(changes, batch_size), keep_going=True)
