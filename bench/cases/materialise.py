"""G4: transform's materialiser (`apply_lines`: its reads, mapping and writes) ÷ the identical write statements
(`save_lines`) given rows built beforehand, as interleaved pairs. No Kafka, no inbox: the database work alone.

Each run writes the same decoded `HetongRowChanged` envelopes into a fresh scratch copy of transform's schema, in
transactions of `CHUNK` lines, so every side inserts (never updates) the same rows.
"""

from __future__ import annotations

import time

from bench.baselines.raw_pipeline import decode_change
from bench.cases.transform_cpu import payloads
from bench.pairs import interleaved
from bench.scratch import transform_schema
from bench.stats import Goal, PairedRatio
from transform.adapters.lines_repository import save_lines
from transform.bootstrap import uow_factory, uow_on
from transform.domain.mapping import standardize
from transform.service_layer.configuration import Configuration, ConfigurationCache
from transform.service_layer.lines import LineChange, apply_lines, line_write
from transform.service_layer.ports import LineWrite

G4 = Goal("G4", "materialiser ÷ identical statements with rows built beforehand", "rows/s", 0.85, 0.60)
CHUNK = 500


async def _ours(changes: list[LineChange]) -> float:
    async with transform_schema() as (_, pool):
        config = await ConfigurationCache(uow_factory(pool), 3600).get()
        started = time.perf_counter()
        for i in range(0, len(changes), CHUNK):
            async with pool.acquire() as conn, conn.transaction():
                await apply_lines(uow_on(conn), changes[i : i + CHUNK], config)
        return len(changes) / (time.perf_counter() - started)


def _writes(changes: list[LineChange], config: Configuration) -> list[LineWrite]:
    return [
        line_write(
            c, standardize(c.event.row, config.mapping, config.catalog), {}, [], config, restored=False
        )
        for c in changes
    ]


async def _baseline(changes: list[LineChange]) -> float:
    async with transform_schema() as (_, pool):
        writes = _writes(changes, await ConfigurationCache(uow_factory(pool), 3600).get())
        started = time.perf_counter()
        for i in range(0, len(writes), CHUNK):
            async with pool.acquire() as conn, conn.transaction():
                await save_lines(conn, writes[i : i + CHUNK])
        return len(writes) / (time.perf_counter() - started)


async def g4(pairs: int, n: int = 5_000) -> PairedRatio:
    changes = [decode_change(p)[1] for p in payloads(n)]

    async def a() -> float:
        return await _ours(changes)

    async def b() -> float:
        return await _baseline(changes)

    return await interleaved(G4, a, b, pairs, notes=f"{n} lines per side per pair, {CHUNK} per transaction")
