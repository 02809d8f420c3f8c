"""Nothing lost, nothing duplicated: a 20 000-line import with the consumer SIGKILLed mid-stream."""

from __future__ import annotations

import uuid
from decimal import Decimal

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually, login
from tests.support.generate import contract_rows
from tests.support.stack import ServiceProcess
from transform.domain.mapping import DEFAULT_MAPPING, standardize
from transform.domain.progress import compute_progress
from transform.domain.routes import DEFAULT_CATALOG

pytestmark = pytest.mark.e2e
LINES, BATCH = 20_000, 1_000


def reference_progress(rows: list[dict[str, object]]) -> dict[tuple[str, str], Decimal]:
    """What the tables must say, computed from the input alone by the pure domain."""
    catalog = DEFAULT_CATALOG
    expected = {}
    for row in rows:
        std = standardize(row, DEFAULT_MAPPING, catalog)
        expected[(std.contract_no, std.product_id)] = compute_progress(
            catalog.route_for(std.fields), std.process_statuses
        ).percentage
    return expected


async def _count(admin: asyncpg.Connection, table: str, prefix: str) -> int:
    return int(await admin.fetchval(f"SELECT count(*) FROM {table} WHERE contract_no LIKE $1", prefix + "%"))


async def test_import_survives_a_killed_consumer_with_no_loss_and_no_duplicates(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    prefix = f"KX{uuid.uuid4().hex[:6]}-"
    rows = contract_rows(LINES, seed=11, prefix=prefix)
    token = await login(http, services["ingest"].url, *await create_client(admin))
    url = f"{services['ingest'].url}/sync/contracts/batch"

    killed, applied_at_kill = False, 0
    for start in range(0, LINES, BATCH):
        r = await http.post(
            url,
            json={"contracts": rows[start : start + BATCH], "overwrite": True, "source": "local_system"},
            headers=bearer(token),
        )
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == BATCH
        if not killed and start >= LINES // 2:
            await eventually(lambda: _count_positive(admin, prefix), timeout_s=60)
            services["transform"].kill()  # mid-stream: batches applied, offsets possibly not committed
            killed = True
            applied_at_kill = await _count(admin, "transform.hetong_original", prefix)
    # The local system retries a batch it is unsure about: no new versions, no new events.
    again = await http.post(
        url,
        json={"contracts": rows[:BATCH], "overwrite": True, "source": "local_system"},
        headers=bearer(token),
    )
    assert again.json()["unchanged"] == BATCH

    assert 0 < applied_at_kill < LINES  # the kill really interrupted the stream
    services["transform"] = ServiceProcess("transform").start()
    await eventually(lambda: _all_applied(admin, prefix), timeout_s=180, every_s=1)

    assert await _count(admin, "transform.hetong_original", prefix) == LINES
    assert (
        await admin.fetchval(
            "SELECT count(*) FROM transform.hetong_original WHERE contract_no LIKE $1 AND version <> 1",
            prefix + "%",
        )
        == 0
    )
    # One ContractStandardized per line: an effect applied twice would have written a second event.
    standardized = await admin.fetchval(
        "SELECT count(*) FROM transform.outbox WHERE topic = 'transform.contract-standardized.v1' AND key LIKE $1",
        prefix + "%",
    )
    assert standardized == LINES
    stored = {
        (r["contract_no"], r["product_id"]): r["progress_percentage"]
        for r in await admin.fetch(
            "SELECT contract_no, product_id, progress_percentage FROM transform.products WHERE contract_no LIKE $1",
            prefix + "%",
        )
    }
    assert stored == reference_progress(rows)


async def _count_positive(admin: asyncpg.Connection, prefix: str) -> bool:
    return await _count(admin, "transform.hetong_original", prefix) > 0


async def _all_applied(admin: asyncpg.Connection, prefix: str) -> bool:
    return await _count(admin, "transform.products", prefix) >= LINES
