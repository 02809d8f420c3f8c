"""Compare a local agent's digest with the cloud's lines and keep the latest result per client."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from transform.domain.reconcile import cloud_digests, compare

if TYPE_CHECKING:
    from transform.domain.reconcile import LocalDigest
    from transform.service_layer.ports import ReconciliationStore


async def reconcile(store: ReconciliationStore, client_id: str, local: LocalDigest) -> dict[str, Any]:
    # One snapshot for the lines and their process states; the result is written after it.
    lines = await store.cloud_lines(None if local.complete else list(local.contracts))
    # Hashing a whole table is CPU work: a thread keeps the event loop answering meanwhile.
    cloud = await asyncio.to_thread(cloud_digests, ((x.contract_no, x.row, x.processes) for x in lines))
    outcome = compare(local, cloud)
    checked_at = await store.save_result(client_id, local.complete, outcome)
    return {
        "checked": outcome.checked,
        "missing_in_cloud": outcome.missing_in_cloud,
        "missing_locally": outcome.missing_locally,
        "different": outcome.different,
        "checked_at": checked_at,
    }


KINDS = ("missing_in_cloud", "missing_locally", "different")


async def local_vs_cloud(store: ReconciliationStore, sample: int = 100) -> dict[str, dict[str, Any]]:
    """The consistency report's section: each client's latest comparison, with its time, by client id.

    Counts are whole; each list shows its first `sample` contracts (the report's other sections do the same).
    """
    section: dict[str, dict[str, Any]] = {}
    for r in await store.latest_results():
        for kind in KINDS:
            r[f"{kind}_count"] = len(r[kind])
            r[kind] = r[kind][:sample]
        section[r.pop("client_id")] = r
    return section


def has_differences(section: dict[str, dict[str, Any]]) -> bool:
    return any(r[f"{kind}_count"] for r in section.values() for kind in KINDS)
