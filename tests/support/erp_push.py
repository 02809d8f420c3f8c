"""Watching a customer reach the ERP simulator on the real stack: rules' row, the connector's push, the ERP's
own count of saves applied to one record."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from tests.support.api import eventually

ROW = "SELECT * FROM rules.customers_unified WHERE id = $1"


async def erp_record(http: httpx.AsyncClient, sim_url: str, erp_id: int) -> dict[str, Any]:
    """The simulator's true store for one ord (`save_count`: saves applied to it; the seed counts as 1)."""
    store = (await http.get(f"{sim_url}/_sim/customers")).json()
    [record] = [c for c in store["customers"] if c["ord"] == erp_id]
    return dict(record)


async def saves_of(http: httpx.AsyncClient, sim_url: str, erp_id: int) -> int:
    return int((await erp_record(http, sim_url, erp_id))["save_count"])


class Pusher:
    """Waits until the ERP confirmed a customer's request `version`, asking the connector to push meanwhile
    (a request may reach its queue just after a push run ended)."""

    def __init__(
        self, admin: asyncpg.Connection, http: httpx.AsyncClient, connector_url: str, auth: dict[str, str]
    ) -> None:
        self._admin, self._http, self._url, self._auth = admin, http, connector_url, auth

    async def trigger(self) -> None:
        r = await self._http.post(
            f"{self._url}/sync/erp/trigger", json={"direction": "push"}, headers=self._auth
        )
        assert r.status_code == 202, r.text

    async def confirmed(self, customer_id: str, version: int, timeout_s: float = 600) -> asyncpg.Record:
        """Push runs work the connector's queue in order: in a full `make test` other tests' customers can be
        queued ahead (seen: ~700 creates from the Schemathesis run, worked off at ~3 per second, ahead of a first create)."""

        async def probe() -> asyncpg.Record | None:
            row = await self._admin.fetchrow(ROW, customer_id)
            assert row is not None, customer_id
            assert row["erp_sync_status"] != "failed", row["erp_sync_error"]
            if row["erp_sync_status"] == "synced" and row["push_result_version"] >= version:
                return row
            await self.trigger()
            await asyncio.sleep(0.5)
            return None

        return await eventually(probe, timeout_s=timeout_s)
