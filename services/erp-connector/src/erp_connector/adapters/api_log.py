"""erp_api_logs: one row per ERP call, written in the background in small batches.

Summaries arrive without passwords or session tokens (erp_transport drops them); phone numbers
are masked here, just before they reach the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import orjson

from erp_connector.domain.masking import mask_phones, mask_value

if TYPE_CHECKING:
    import asyncpg

    from erp_connector.adapters.erp_transport import CallRecord

log = logging.getLogger(__name__)
_INSERT = (
    "INSERT INTO erp_api_logs (endpoint, operation, http_status, outcome, duration_ms, error,"
    " request_summary, response_summary) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)"
)


class ApiLogWriter:
    def __init__(self, pool: asyncpg.Pool, *, flush_every_s: float = 1.0, max_buffer: int = 10_000) -> None:
        self._pool, self._every, self._max = pool, flush_every_s, max_buffer
        self._buffer: list[tuple[object, ...]] = []
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(self, record: CallRecord) -> None:
        if record.outcome == "circuit_open":
            return  # nothing was sent
        if len(self._buffer) >= self._max:
            self.dropped += 1  # logging must never stall or grow without bound
            return
        self._buffer.append(
            (
                record.path,
                record.operation,
                record.http_status,
                record.outcome,
                round(record.duration_s * 1000),
                mask_phones(record.error) if record.error else None,
                orjson.dumps(mask_value(record.request)).decode(),
                orjson.dumps(mask_value(record.response)).decode(),
            )
        )

    async def flush(self) -> None:
        rows, self._buffer = self._buffer, []
        if rows:
            await self._pool.executemany(_INSERT, rows)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="erp-api-log-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.flush()
            except Exception as exc:  # the database may be away; calls must go on
                log.warning("erp_api_logs flush failed: %s", exc)
