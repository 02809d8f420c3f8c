"""Seed 000's HTTP examples, verbatim, against real service processes, Kafka and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, eventually
from tests.support.seed000 import SEED_BATCH
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e


async def _forget_seed_contract(admin: asyncpg.Connection) -> None:
    """The seed's ids are fixed; a rerun on the same database starts from a clean slate for them."""
    for table in (
        "ingest.contract_lines",
        "ingest.progress_state",
        "transform.hetong_original",
        "transform.contracts",
        "transform.products",
        "transform.product_processes",
        "transform.progress_reports",
        "transform.change_feed",
    ):
        await admin.execute(f"DELETE FROM {table} WHERE contract_no = 'HT2023001'")
    # Deleting feed rows moves the feed's horizon (older cursors get 410); this cleanup is no retention: no
    # client missed those rows, and the seed's client pages from a 2023 timestamp.
    await admin.execute("DELETE FROM transform.change_feed_horizon")


async def test_seed_login_batch_progress_and_pending_updates(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    await _forget_seed_contract(admin)
    ingest, transform = services["ingest"].url, services["transform"].url
    client_id, secret = await create_client(admin)

    login = await http.post(
        f"{ingest}/auth/system-login",
        json={"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"},
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    body = login.json()
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    auth = bearer(body["access_token"])

    batch = await http.post(f"{ingest}/sync/contracts/batch", json=SEED_BATCH, headers=auth)
    assert batch.status_code == 200, batch.text
    assert batch.json()["accepted"] == 1
    assert batch.json()["results"][0]["status"] == "accepted"

    async def standardized() -> Any:
        return await admin.fetchrow(
            "SELECT c.party_a, c.product_name, c.contract_status, p.progress_percentage, p.current_process"
            " FROM transform.contracts c JOIN transform.products p USING (contract_no, product_id)"
            " WHERE contract_no = 'HT2023001' AND product_id = 'P20230917001'"
        )

    row = await eventually(standardized)
    assert (row["party_a"], row["product_name"], row["contract_status"]) == ("客户A", "凹版印刷辊", "生产中")
    assert 0 < row["progress_percentage"] < 100

    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    progress = await http.put(
        f"{ingest}/sync/contracts/HT2023001/progress",
        json={"热喷涂": "已完成", "updated_by": "miniprogram", "update_time": now},
        headers=auth,
    )
    assert progress.status_code == 200, progress.text

    async def pending() -> Any:
        """The seed's request first, then its next_cursor until the feed is drained, as a client pages."""
        params: dict[str, Any] = {"since": "2023-09-17T00:00:00Z", "limit": 100}
        mine: list[dict[str, Any]] = []
        while True:
            r = await http.get(f"{transform}/sync/pending-updates", params=params, headers=auth)
            assert r.status_code == 200, r.text
            page = r.json()
            mine += [c for c in page["contracts"] if c["合同编号"] == "HT2023001"]
            if not page["has_more"]:
                return (mine, page) if mine else None
            params = {"since": page["next_cursor"], "limit": 100}

    mine, page = await eventually(pending)
    entry = mine[-1]
    assert set(entry) >= {
        "合同编号",
        "产品ID",
        "progress_percentage",
        "current_process",
        "updated_at",
        "updated_by",
    }
    assert entry["产品ID"] == "P20230917001"
    assert entry["updated_by"] == "miniprogram"
    assert entry["progress_percentage"] > float(row["progress_percentage"])
    assert page["next_cursor"]
