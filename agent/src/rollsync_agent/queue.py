"""`queue` mode: drain the trigger-filled `sync_queue`, mark entries synced/failed, keep hetong's sync columns."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, and_, or_, select, update

from rollsync_agent.cloud import CloudClient
from rollsync_agent.factory_db import LineTable, mark_agent_session, read_line, reflect
from rollsync_agent.rows import Key, upload_form
from rollsync_agent.state import StateStore
from rollsync_agent.upload import Change, Outcome, send_all

MAX_ERROR = 500


def load_queue(engine: Engine, name: str) -> Table:
    return reflect(engine, name)


def _due(queue: Table, retry_count: int, limit: int) -> Any:
    c = queue.c
    waiting = or_(c.sync_status == "pending", and_(c.sync_status == "failed", c.attempts < retry_count))
    return select(c.id, c.record_id, c.product_id).where(waiting).order_by(c.id).limit(limit)


def _pending(engine: Engine, queue: Table, retry_count: int, limit: int) -> dict[Key, list[int]]:
    with engine.connect() as conn:
        rows = conn.execute(_due(queue, retry_count, limit)).all()
    by_key: dict[Key, list[int]] = defaultdict(list)
    for id_, contract_no, product_id in rows:
        by_key[(contract_no, product_id or "")].append(id_)
    return by_key


def _changes(engine: Engine, lines: LineTable, state: StateStore, keys: list[Key]) -> list[Change]:
    known = state.known()
    out = []
    for key in keys:
        row = read_line(engine, lines, key)
        was = known[key].hash if key in known else None
        form, h = upload_form(row) if row else (None, "")
        out.append(Change(key, h, form, was))
    return out


def _mark(
    engine: Engine, queue: Table, lines: LineTable, ids: list[int], done: Change, error: str | None
) -> None:
    now = datetime.now()  # the factory's local clock, like GETDATE() in the seed
    with engine.begin() as conn:
        mark_agent_session(conn)
        q = update(queue).where(queue.c.id.in_(ids))
        if error is None:
            conn.execute(q.values(sync_status="synced", synced_at=now, error_message=None))
        else:
            conn.execute(
                q.values(sync_status="failed", attempts=queue.c.attempts + 1, error_message=error[:MAX_ERROR])
            )
        if done.row is not None and "sync_status" in lines.columns:
            values = (
                {"sync_status": "failed"}
                if error
                else {"sync_status": "synced", "sync_time": now, "last_sync_hash": done.hash}
            )
            conn.execute(lines.set_values(done.key, values))


def drain(
    engine: Engine,
    lines: LineTable,
    queue: Table,
    state: StateStore,
    client: CloudClient,
    batch_size: int,
    retry_count: int,
) -> Outcome:
    """One pass over the due queue entries (several entries for one line become one upload)."""
    due = _pending(engine, queue, retry_count, batch_size * 20)
    changes = _changes(engine, lines, state, list(due))
    state.put(pending_local_changes=len(changes))
    outcome = send_all(client, state, changes, batch_size)
    by_key = {c.key: c for c in changes}
    for key in outcome.accepted + outcome.deleted:
        _mark(engine, queue, lines, due[key], by_key[key], None)
    for key, reason, message in outcome.rejected:
        _mark(engine, queue, lines, due[key], by_key[key], f"{reason}: {message}")
    state.put(pending_local_changes=len(changes) - outcome.sent)
    return outcome
