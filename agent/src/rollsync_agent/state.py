"""The agent's own state file (stdlib sqlite3): what the cloud has, the feed cursor, rejections, status."""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rollsync_agent.rows import Key

MAX_ERRORS = 50
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lines (
    contract_no TEXT NOT NULL, product_id TEXT NOT NULL,
    hash TEXT,            -- content the cloud accepted (NULL: never accepted)
    writeback_hash TEXT,  -- content after our own write-back: not a local change
    cloud_status TEXT NOT NULL DEFAULT '{}',  -- cloud process name -> effective status (the feed)
    PRIMARY KEY (contract_no, product_id));
CREATE TABLE IF NOT EXISTS rejected (
    contract_no TEXT NOT NULL, product_id TEXT NOT NULL, hash TEXT NOT NULL,
    reason TEXT NOT NULL, message TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (contract_no, product_id));
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS errors (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS imports (source TEXT PRIMARY KEY, done INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)  # one per line the cloud has: 50 000 of them in a scan
class Known:
    hash: str | None
    writeback_hash: str | None
    rejected_hash: str | None


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a SIGKILL or power cut must not lose an acknowledged step
    conn.executescript(_SCHEMA)
    return conn


class StateStore:
    """One connection, serialised by a lock: the run loop writes, the status page reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = _connect(path)
        self._lock = threading.RLock()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # -- lines ---------------------------------------------------------------------------------------------
    def known(self) -> dict[Key, Known]:
        rows = self._all(
            "SELECT l.contract_no, l.product_id, l.hash, l.writeback_hash, r.hash FROM lines l"
            " LEFT JOIN rejected r USING (contract_no, product_id)"
        )
        return {(c, p): Known(h, w, r) for c, p, h, w, r in rows}

    def known_one(self, key: Key) -> Known | None:
        rows = self._all(
            "SELECT l.hash, l.writeback_hash, r.hash FROM lines l LEFT JOIN rejected r USING (contract_no, product_id)"
            " WHERE l.contract_no = ? AND l.product_id = ?",
            key,
        )
        return Known(*rows[0]) if rows else None

    def rejected_hashes(self) -> dict[Key, str]:
        return {(c, p): h for c, p, h in self._all("SELECT contract_no, product_id, hash FROM rejected")}

    def mark_accepted(self, items: list[tuple[Key, str]]) -> None:
        with self.tx() as c:
            c.executemany(
                "INSERT INTO lines (contract_no, product_id, hash) VALUES (?, ?, ?)"
                " ON CONFLICT DO UPDATE SET hash = excluded.hash, writeback_hash = NULL",
                [(cno, pid, h) for (cno, pid), h in items],
            )
            c.executemany(
                "DELETE FROM rejected WHERE contract_no = ? AND product_id = ?", [key for key, _ in items]
            )

    def mark_rejected(self, items: list[tuple[Key, str, str, str]]) -> None:
        with self.tx() as c:
            for (cno, pid), h, reason, message in items:
                # a line the cloud never accepted still needs its `lines` row, or scan would not see the refusal
                c.execute("INSERT OR IGNORE INTO lines (contract_no, product_id) VALUES (?, ?)", (cno, pid))
                c.execute(
                    "INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?, ?)",
                    (cno, pid, h, reason, message, now_iso()),
                )

    def forget(self, keys: list[Key]) -> None:
        """The cloud confirmed these lines deleted."""
        with self.tx() as c:
            for cno, pid in keys:
                c.execute("DELETE FROM lines WHERE contract_no = ? AND product_id = ?", (cno, pid))
                c.execute("DELETE FROM rejected WHERE contract_no = ? AND product_id = ?", (cno, pid))

    def set_writeback(self, key: Key, new_hash: str | None, status: dict[str, str]) -> None:
        """Before a write-back commits: its result is the cloud's own value, never a local change."""
        with self.tx() as c:
            c.execute(
                "INSERT INTO lines (contract_no, product_id, writeback_hash, cloud_status) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET writeback_hash = COALESCE(excluded.writeback_hash, writeback_hash),"
                " cloud_status = excluded.cloud_status",
                (*key, new_hash, json.dumps(status, ensure_ascii=False)),
            )

    def adopt_writeback(self, key: Key, h: str) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE lines SET hash = ?, writeback_hash = NULL WHERE contract_no = ? AND product_id = ?",
                (h, *key),
            )

    def cloud_status(self) -> dict[Key, dict[str, str]]:
        rows = self._all("SELECT contract_no, product_id, cloud_status FROM lines")
        return {(c, p): json.loads(s) for c, p, s in rows}

    # -- meta, errors, imports -----------------------------------------------------------------------------
    def get(self, k: str, default: str | None = None) -> str | None:
        rows = self._all("SELECT v FROM meta WHERE k = ?", (k,))
        return str(rows[0][0]) if rows else default

    def put(self, **values: object) -> None:
        with self.tx() as c:
            for k, v in values.items():
                c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v, default=str)))

    def error(self, message: str) -> None:
        with self.tx() as c:
            c.execute("INSERT INTO errors (at, message) VALUES (?, ?)", (now_iso(), message))
            c.execute("DELETE FROM errors WHERE id <= (SELECT MAX(id) FROM errors) - ?", (MAX_ERRORS,))

    def import_done(self, source: str) -> int:
        rows = self._all("SELECT done FROM imports WHERE source = ?", (source,))
        return int(rows[0][0]) if rows else 0

    def set_import_done(self, source: str, done: int) -> None:
        with self.tx() as c:
            c.execute("INSERT OR REPLACE INTO imports VALUES (?, ?)", (source, done))

    def meta_json(self, k: str) -> Any:
        raw = self.get(k)
        return None if raw is None else json.loads(raw)


def snapshot_fields(path: Path) -> dict[str, Any]:
    """The status as plain fields, read from the state file by any process (the page, `status`)."""
    store = StateStore(path)
    try:
        meta = {k: store.meta_json(k) for k in _SNAPSHOT_META}
        rejected = store._all("SELECT contract_no, product_id, reason, message, at FROM rejected ORDER BY at")
        errors = store._all("SELECT at, message FROM errors ORDER BY id DESC LIMIT 10")
    finally:
        store.close()
    return {
        "state": meta["state"] or "disconnected",
        "message": meta["message"] or "",
        "last_upload_at": meta["last_upload_at"],
        "last_upload_count": meta["last_upload_count"] or 0,
        "last_download_at": meta["last_download_at"],
        "last_download_count": meta["last_download_count"] or 0,
        "pending_local_changes": meta["pending_local_changes"] or 0,
        "auth_failed": bool(meta["auth_failed"]),
        "rejected": [
            dict(zip(("contract_no", "product_id", "reason", "message", "at"), r, strict=True))
            for r in rejected
        ],
        "recent_errors": [{"at": a, "message": m} for a, m in reversed(errors)],
    }


_SNAPSHOT_META = (
    "state",
    "message",
    "last_upload_at",
    "last_upload_count",
    "last_download_at",
    "last_download_count",
    "pending_local_changes",
    "auth_failed",
)


def load_snapshot(state_path: Path) -> Any:
    """What the status page and `rollsync-agent status` show: a status_model.StatusSnapshot (agentui's)."""
    model = importlib.import_module("rollsync_agent.status_model").StatusSnapshot
    return model.model_validate(snapshot_fields(state_path))
