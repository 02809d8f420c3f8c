"""`scan` mode: compare every line's content hash with what the cloud accepted; no schema change needed."""

from __future__ import annotations

from sqlalchemy import Engine

from rollsync_agent.cloud import CloudClient
from rollsync_agent.factory_db import LineTable, iter_rows
from rollsync_agent.rows import key_of, upload_form
from rollsync_agent.state import Known, StateStore
from rollsync_agent.upload import Change, Outcome, send_all


def _change(known: Known | None, row: dict[str, object], h: str, state: StateStore) -> Change | None:
    key = key_of(row)
    if known is None:
        return Change(key, h, row)
    if h == known.hash or h == known.rejected_hash:
        return None  # in the cloud already, or refused and not edited since
    if h == known.writeback_hash:
        state.adopt_writeback(key, h)  # our own write-back: the cloud's value, not a local change
        return None
    return Change(key, h, row, known.hash)


def scan(engine: Engine, lines: LineTable, state: StateStore) -> list[Change]:
    """New, changed and vanished lines since the cloud last accepted them (vanished ones with row=None)."""
    known = state.known()
    changes: list[Change] = []
    for row in iter_rows(engine, lines):
        form, h = upload_form(row)
        change = _change(known.pop(key_of(row), None), form, h, state)
        if change is not None:
            changes.append(change)
    never_accepted = [k for k, v in known.items() if v.hash is None]
    state.forget(never_accepted)
    changes += [Change(k, "", None, v.hash) for k, v in known.items() if v.hash and v.rejected_hash != ""]
    return changes


def scan_and_upload(
    engine: Engine, lines: LineTable, state: StateStore, client: CloudClient, batch_size: int
) -> Outcome:
    changes = scan(engine, lines, state)
    state.put(pending_local_changes=len(changes))
    outcome = send_all(client, state, changes, batch_size)
    state.put(pending_local_changes=len(changes) - len(outcome.accepted) - len(outcome.deleted))
    return outcome
