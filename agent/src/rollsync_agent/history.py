"""`import-history`: upload the whole table (or an export file) in chunks, resumable, with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rollsync_agent.cloud import CloudClient
from rollsync_agent.config import AgentConfig
from rollsync_agent.exports import read_export
from rollsync_agent.factory_db import count_rows, iter_rows, load_table, open_engine
from rollsync_agent.rows import Key, Row, key_of, upload_form
from rollsync_agent.state import Known, StateStore
from rollsync_agent.upload import Change, chunked, send_stream

DEFAULT_CHUNK = 500


@dataclass(frozen=True)
class ImportResult:
    total: int
    sent: int
    accepted: int
    rejected: int
    skipped: int  # already in the cloud (a resumed import)


@dataclass
class _Progress:
    total: int  # expected, for the bar
    read: int = 0
    skipped: int = 0
    sent: int = 0

    def bar(self, out: TextIO) -> None:
        width, done = 40, self.skipped + self.sent
        filled = width * done // self.total if self.total else width
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} lines")
        out.flush()


def _pending(rows: Iterable[Row], known: dict[Key, Known], progress: _Progress) -> Iterator[Change]:
    """Lines the cloud has not accepted in this content yet; the rest are done (resume after a stop)."""
    for row in rows:
        progress.read += 1
        form, h = upload_form(row)
        key = key_of(row)
        k = known.get(key)
        if k is None or k.hash != h:
            yield Change(key, h, form, k.hash if k else None)
        else:
            progress.skipped += 1


def import_rows(
    rows: Iterable[Row], state: StateStore, client: CloudClient, chunk: int, out: TextIO | None, total: int
) -> ImportResult:
    """Streams `rows`: one chunk read and encoded while the previous one is being posted, no more."""
    progress = _Progress(total)

    def sent(n: int) -> None:
        progress.sent += n
        if out is not None:
            progress.bar(out)

    batches = chunked(_pending(rows, state.known(), progress), chunk)
    result = send_stream(client, state, batches, sent=sent)
    if out is not None:
        out.write("\n")
    return ImportResult(
        progress.read, result.sent, len(result.accepted), len(result.rejected), progress.skipped
    )


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
    out = sys.stderr if progress else None
    try:
        if source is not None:
            rows = read_export(source)
            return import_rows(rows, state, cloud, chunk, out, len(rows))
        engine = open_engine(config)
        try:
            lines = load_table(engine, config)
            return import_rows(
                iter_rows(engine, lines, chunk), state, cloud, chunk, out, count_rows(engine, lines)
            )
        finally:
            engine.dispose()
    finally:
        state.close()
        if own:
            cloud.close()
