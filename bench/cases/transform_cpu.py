"""G3: parse + pydantic validation + standardised contract and per-process rows ÷ `orjson.loads`, one core, no I/O.

Both sides read the same encoded `HetongRowChanged` envelopes (seeded rows, ≈2 KB each); the shipped default field
mapping and process routes stand in for the tables (the same defaults the tables are seeded with).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import orjson

from bench.pairs import interleaved
from bench.stats import Goal, PairedRatio
from common.events.ingest import HetongRowChanged
from tests.support.generate import contract_rows
from transform.domain.mapping import DEFAULT_MAPPING, standardize
from transform.domain.routes import DEFAULT_CATALOG
from transform.service_layer.configuration import Configuration
from transform.service_layer.lines import LineChange, line_write

G3 = Goal("G3", "parse + validate + standardise + process rows ÷ orjson.loads", "rows/s", 0.30, 0.20)


def payloads(n: int) -> list[bytes]:
    now = datetime.now(UTC).isoformat()
    return [
        orjson.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "correlation_id": "bench",
                "payload": {
                    "contract_no": str(row["合同编号"]),
                    "product_id": str(row["产品ID"]),
                    "version": 1,
                    "content_hash": "0" * 64,
                    "row": row,
                    "source": "bench",
                    "client_id": "bench",
                    "received_at": now,
                },
            }
        )
        for row in contract_rows(n, seed=3, prefix="G3-")
    ]


def ours(data: list[bytes]) -> float:
    config = Configuration(DEFAULT_MAPPING, DEFAULT_CATALOG)
    started = time.perf_counter()
    for raw in data:
        envelope = orjson.loads(raw)
        change = LineChange(HetongRowChanged.model_validate(envelope["payload"]), envelope["correlation_id"])
        std = standardize(change.event.row, config.mapping, config.catalog)
        line_write(change, std, {}, [], config, restored=False)
    return len(data) / (time.perf_counter() - started)


def baseline(data: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in data:
        orjson.loads(raw)
    return len(data) / (time.perf_counter() - started)


async def g3(pairs: int, n: int = 5_000) -> PairedRatio:
    data = payloads(n)

    async def a() -> float:
        return ours(data)

    async def b() -> float:
        return baseline(data)

    return await interleaved(G3, a, b, pairs, notes=f"{n} envelopes per side per pair, one core, no I/O")
