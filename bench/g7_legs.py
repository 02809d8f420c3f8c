"""After `make bench CASE=G7,G7-import`: where a progress report's time goes, leg by leg, from the rows it left.

    .venv/bin/python -m bench.g7_legs
Legs: ingest's outbox row (created in the PUT's transaction) → relay published (sent_at) → transform's feed row
(recorded_at, the transform transaction's now()). The rest (commit, the feed's visibility horizon, the poll) is
the total minus these. The older half of the reports is the idle case, the newer half the import case.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg
import orjson

from bench.stats import latency_summary, new_histogram, record_seconds
from tests.support.stack import admin_dsn

FEED = "SELECT updated_by, recorded_at FROM transform.change_feed WHERE updated_by ~ '^b[0-9a-f]{12}$'"
OUTBOX = (
    "SELECT payload, created_at, sent_at FROM ingest.outbox WHERE topic LIKE '%progress%' AND sent_at IS NOT NULL"
    " ORDER BY created_at DESC LIMIT $1"
)


async def main(limit: int = 720) -> None:
    conn = await asyncpg.connect(admin_dsn())
    feed = {r["updated_by"]: r["recorded_at"] for r in await conn.fetch(FEED)}
    legs: list[tuple[float, float]] = []
    for r in reversed(await conn.fetch(OUTBOX, limit)):
        by = orjson.loads(bytes(r["payload"]))["payload"].get("updated_by")
        if by in feed:
            legs.append(
                ((r["sent_at"] - r["created_at"]).total_seconds(), (feed[by] - r["sent_at"]).total_seconds())
            )
    await conn.close()
    half = len(legs) // 2
    for part, chunk in (("idle", legs[:half]), ("import", legs[half:])):
        for i, name in enumerate(("outbox → relay sent", "relay sent → feed row recorded")):
            hist = new_histogram()
            record_seconds(hist, [leg[i] for leg in chunk])
            sys.stdout.write(f"{part:<7} {name:<32} {latency_summary(hist)}\n")


if __name__ == "__main__":
    asyncio.run(main())
