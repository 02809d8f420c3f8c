"""Download: follow `GET /sync/pending-updates` by its cursor and write each line's process status back.

One database transaction per line. Before it commits, the state file learns the content the line will
have, so the next scan recognises the cloud's own value and does not upload it back (no echo).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from rollsync_agent.cloud import CloudClient, CloudRefusedError
from rollsync_agent.factory_db import LineTable, mark_agent_session
from rollsync_agent.rows import CONTRACT_NO, PRODUCT_ID, Key, row_hash
from rollsync_agent.state import StateStore, now_iso

log = logging.getLogger("rollsync_agent.feed")
PATH = "/sync/pending-updates"
CURSOR = "feed_cursor"
PAGE = 200


@dataclass(frozen=True)
class Update:
    key: Key
    deleted: bool
    status: dict[str, str]  # hetong column -> effective status (processes that have a column)
    processes: dict[str, str]  # cloud process name -> effective status, all of them (for the digest)


def parse_item(item: Mapping[str, Any], lines: LineTable, mapping: Mapping[str, str]) -> Update:
    infos = {
        str(name): info
        for name, info in (item.get("processes") or {}).items()
        if isinstance(info, Mapping) and info.get("status")
    }
    processes = {p: str(info["status"]) for p, info in infos.items()}
    # Where to write: processColumns first, else the column the cloud says the line used for the process
    # (an alias or a former name in the cloud's catalogue), else the column of the same name.
    columns = {mapping.get(p, str(infos[p].get("column") or p)): s for p, s in processes.items()}
    status = {c: s for c, s in columns.items() if c in lines.columns}
    key = (str(item.get(CONTRACT_NO, "")), str(item.get(PRODUCT_ID, "")))
    return Update(key, bool(item.get("deleted")), status, processes)


def write_back(engine: Engine, lines: LineTable, state: StateStore, update: Update) -> bool:
    """Apply one line's statuses in one transaction; True when the local row changed."""
    if update.deleted or not update.processes:
        return False
    with engine.begin() as conn:
        row = conn.execute(lines.lock_line(update.key)).mappings().first()
        if row is None:
            return False
        current = dict(row)
        changes = {c: s for c, s in update.status.items() if current.get(c) != s}
        before = state.known_one(update.key)
        in_sync = before is not None and before.hash == row_hash(current)
        after = row_hash({**current, **changes}) if changes and in_sync else None
        state.set_writeback(update.key, after, update.processes)
        if changes:
            mark_agent_session(conn)
            conn.execute(lines.set_values(update.key, changes))
    return bool(changes)


def _page(client: CloudClient, state: StateStore) -> dict[str, Any]:
    """The next page; a cursor behind the feed's retention horizon (410 cursor_expired) is dropped and the
    feed read again from the start: its items are full state, so applying them again is harmless."""
    cursor = state.meta_json(CURSOR)
    try:
        return dict(
            client.call("GET", PATH, params={"limit": PAGE, **({"since": cursor} if cursor else {})}).json()
        )
    except CloudRefusedError as exc:
        if exc.status != 410 or not cursor:
            raise
        log.warning("feed cursor expired (%s); reading the feed again from the start", exc.code)
    state.put(**{CURSOR: None})
    return dict(client.call("GET", PATH, params={"limit": PAGE}).json())


def poll(
    engine: Engine, lines: LineTable, state: StateStore, client: CloudClient, mapping: Mapping[str, str]
) -> int:
    """Read every page after the persisted cursor; the cursor advances only after a page is applied."""
    written = 0
    while True:
        page = _page(client, state)
        for item in page.get("contracts") or []:
            written += write_back(engine, lines, state, parse_item(item, lines, mapping))
        state.put(**{CURSOR: page.get("next_cursor") or state.meta_json(CURSOR)})
        if not page.get("has_more"):
            break
    state.put(last_download_at=now_iso(), last_download_count=written)
    return written
