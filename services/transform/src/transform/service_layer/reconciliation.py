"""Compare a local agent's digest with the cloud's lines and keep the latest result per client."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from transform.adapters import reconcile_queries as queries
from transform.domain.reconcile import LocalDigest, cloud_digests, compare

if TYPE_CHECKING:
    import asyncpg


async def reconcile(pool: asyncpg.Pool, client_id: str, local: LocalDigest) -> dict[str, Any]:
    async with pool.acquire() as conn:
        # One snapshot for the lines and their process states; the result is written after it.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            lines = await queries.cloud_lines(conn, None if local.complete else list(local.contracts))
        # Hashing a whole table is CPU work: a thread keeps the event loop answering meanwhile.
        cloud = await asyncio.to_thread(cloud_digests, ((x.contract_no, x.row, x.processes) for x in lines))
        outcome = compare(local, cloud)
        checked_at = await queries.save_result(conn, client_id, local.complete, outcome)
    return {
        "checked": outcome.checked,
        "missing_in_cloud": outcome.missing_in_cloud,
        "missing_locally": outcome.missing_locally,
        "different": outcome.different,
        "checked_at": checked_at,
    }


KINDS = ("missing_in_cloud", "missing_locally", "different")


async def local_vs_cloud(pool: asyncpg.Pool, sample: int = 100) -> dict[str, dict[str, Any]]:
    """The consistency report's section: each client's latest comparison, with its time, by client id.

    Counts are whole; each list shows its first `sample` contracts (the report's other sections do the same).
    """
    section: dict[str, dict[str, Any]] = {}
    for r in await queries.latest_results(pool):
        for kind in KINDS:
            r[f"{kind}_count"] = len(r[kind])
            r[kind] = r[kind][:sample]
        section[r.pop("client_id")] = r
    return section


def has_differences(section: dict[str, dict[str, Any]]) -> bool:
    return any(r[f"{kind}_count"] for r in section.values() for kind in KINDS)
