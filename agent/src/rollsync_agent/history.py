"""`import-history`: upload the whole table (or an export file) in chunks, resumable, with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rollsync_agent.cloud import CloudClient
from rollsync_agent.config import AgentConfig
from rollsync_agent.exports import read_export
from rollsync_agent.factory_db import iter_rows, load_table, open_engine
from rollsync_agent.rows import Row, key_of, row_hash
from rollsync_agent.state import StateStore
from rollsync_agent.upload import Change, Outcome, send_batch

DEFAULT_CHUNK = 500


@dataclass(frozen=True)
class ImportResult:
    total: int
    sent: int
    accepted: int
    rejected: int
    skipped: int  # already in the cloud (a resumed import)


def _chunks(changes: Iterator[Change], size: int) -> Iterator[list[Change]]:
    chunk: list[Change] = []
    for c in changes:
        chunk.append(c)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bar(done: int, total: int, out: TextIO) -> None:
    width = 40
    filled = width * done // total if total else width
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} lines")
    out.flush()


def _pending(rows: list[Row], state: StateStore) -> tuple[list[Change], int]:
    """Lines the cloud has not accepted in this content yet; the rest are done (resume after a stop)."""
    known = state.known()
    pending = []
    for row in rows:
        h, k = row_hash(row), known.get(key_of(row))
        if k is None or k.hash != h:
            pending.append(Change(key_of(row), h, row, k.hash if k else None))
    return pending, len(rows) - len(pending)


def import_rows(
    rows: list[Row], state: StateStore, client: CloudClient, chunk: int, out: TextIO | None
) -> ImportResult:
    pending, skipped = _pending(rows, state)
    total, done, result = len(rows), skipped, Outcome()
    for part in _chunks(iter(pending), chunk):
        result.add(send_batch(client, state, part))
        done += len(part)
        if out is not None:
            _bar(done, total, out)
    if out is not None:
        out.write("\n")
    return ImportResult(total, result.sent, len(result.accepted), len(result.rejected), skipped)


def import_history(
    config: AgentConfig,
    source: Path | None = None,
    progress: bool = False,
    *,
    chunk: int = DEFAULT_CHUNK,
    client: CloudClient | None = None,
) -> ImportResult:
    """Every line of the sync table (or of `source`), chunk by chunk; a rerun resumes where it stopped."""
    own = client is None
    cloud = client or CloudClient(config.cloud_api)
    state = StateStore(config.state_path)
    try:
        if source is None:
            engine = open_engine(config)
            rows = list(iter_rows(engine, load_table(engine, config)))
            engine.dispose()
        else:
            rows = read_export(source)
        return import_rows(rows, state, cloud, chunk, sys.stderr if progress else None)
    finally:
        state.close()
        if own:
            cloud.close()
