"""G4: transform's materialiser (`apply_lines`) ÷ the identical statements run with everything built beforehand,
as interleaved pairs. No Kafka, no inbox: the database work, and on our side the Python that decides it.

Ours runs `apply_lines` (standardise, read what the lines had, compute states and progress, build the feed items
and `ContractStandardized` events, write). The baseline is handed the standardised rows, the line writes, the feed
items and the encoded outbox rows, and issues the same statements in the same order and transactions: the contract
locks, receipts, the head, state and report reads, the line writes, the feed append and the outbox COPY
(BENCHMARKS.md: "only Python-side batching and mapping should separate the two").
Every run writes the same decoded envelopes into a fresh scratch copy of transform's schema, `CHUNK` lines per
transaction, so both sides insert (never update) the same rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.baselines.raw_pipeline import decode_change
from bench.cases.transform_cpu import payloads
from bench.common import IMPORT_BATCH
from bench.pairs import interleaved
from bench.scratch import Scratch, transform_schema
from bench.stats import Goal, PairedRatio
from common import outbox, topics
from common.events.ingest import HetongRowChanged
from transform.adapters.feed import append_feed
from transform.domain.line_feed import FeedWrite
from transform.domain.mapping import standardize
from transform.service_layer.configuration import Configuration
from transform.service_layer.lines import LineChange, apply_lines, line_write, newest_per_line
from transform.service_layer.lines import _item as feed_item  # the baseline must build the very same rows
from transform.service_layer.lines import _standardized as standardized_event
from transform.service_layer.ports import Key, LineWrite

G4 = Goal("G4", "materialiser ÷ identical statements with every row built beforehand", "rows/s", 0.85, 0.60)
CHUNK = IMPORT_BATCH  # per transaction, as the lines consumer


@dataclass(frozen=True)
class _Prepared:
    """One transaction's worth of statements' arguments, built outside the timed section."""

    contracts: set[str]
    events: list[HetongRowChanged]
    keys: list[Key]
    writes: list[LineWrite]
    feed: list[FeedWrite]
    outbox_rows: list[outbox.OutboxRow]


def _prepare(changes: list[LineChange], config: Configuration) -> _Prepared:
    latest = list(newest_per_line(changes).values())
    writes = [
        line_write(
            c, standardize(c.event.row, config.mapping, config.catalog), {}, [], config, restored=False
        )
        for c in latest
    ]
    rows = [
        outbox.row_for(
            topics.TRANSFORM_CONTRACT_STANDARDIZED,
            f"{c.event.contract_no}/{c.event.product_id}",
            standardized_event(c, w),
        )
        for c, w in zip(latest, writes, strict=True)
    ]
    return _Prepared(
        {c.key[0] for c in latest},
        [c.event for c in latest],
        [c.key for c in latest],
        writes,
        [feed_item(w) for w in writes if w.feed],
        rows,
    )


async def _rows_per_table(scratch: Scratch) -> dict[str, int]:
    """What a side left behind, to check that both wrote the same (the configuration tables are seeded alike)."""
    async with scratch.pool.acquire() as conn:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", scratch.schema)
        return {
            t["tablename"]: await conn.fetchval(f'SELECT count(*) FROM "{scratch.schema}"."{t["tablename"]}"')
            for t in tables
        }


async def _ours(changes: list[LineChange], left: dict[str, int] | None = None) -> float:
    async with transform_schema() as scratch:
        config = await scratch.configuration()
        started = time.perf_counter()
        for i in range(0, len(changes), CHUNK):
            async with scratch.pool.acquire() as conn, conn.transaction():
                await apply_lines(scratch.uow_on(conn), changes[i : i + CHUNK], config)
        rate = len(changes) / (time.perf_counter() - started)
        if left is not None:
            left.update(await _rows_per_table(scratch))
        return rate


async def _same_statements(scratch: Scratch, p: _Prepared) -> None:
    async with scratch.pool.acquire() as conn, conn.transaction():
        uow = scratch.uow_on(conn)
        await uow.locks.contracts(p.contracts)
        await uow.lines.record_receipts(p.events)
        await uow.lines.heads(p.keys)
        await uow.lines.process_states(p.keys)
        await uow.lines.reports_for(p.contracts)
        await uow.lines.save(p.writes)
        await uow.lines.delete([])
        await outbox.add(conn, scratch.schema, p.outbox_rows)
        await append_feed(conn, p.feed)  # last, as the unit of work's commit writes it


async def _baseline(changes: list[LineChange], left: dict[str, int] | None = None) -> float:
    async with transform_schema() as scratch:
        config = await scratch.configuration()
        prepared = [_prepare(changes[i : i + CHUNK], config) for i in range(0, len(changes), CHUNK)]
        started = time.perf_counter()
        for p in prepared:
            await _same_statements(scratch, p)
        rate = len(changes) / (time.perf_counter() - started)
        if left is not None:
            left.update(await _rows_per_table(scratch))
        return rate


async def g4(pairs: int, n: int = 5_000) -> PairedRatio:
    changes = [decode_change(p)[1] for p in payloads(n)]
    ours_left: dict[str, int] = {}
    baseline_left: dict[str, int] = {}
    await _ours(changes, ours_left)
    await _baseline(changes, baseline_left)
    if ours_left != baseline_left:
        raise RuntimeError(f"G4: the sides wrote different rows: ours {ours_left}, baseline {baseline_left}")

    async def a() -> float:
        return await _ours(changes)

    async def b() -> float:
        return await _baseline(changes)

    return await interleaved(G4, a, b, pairs, notes=f"{n} lines per side per pair, {CHUNK} per transaction")
