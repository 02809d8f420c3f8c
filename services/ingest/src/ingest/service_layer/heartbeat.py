"""When each client last made an authenticated call: written at most once per interval, read at scrape time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from prometheus_client import Gauge

if TYPE_CHECKING:
    from common.metrics import Metrics
    from ingest.service_layer.ports import UowFactory


class LastSeen:
    """Per process: one UPDATE per client every `every_s` at most, so a busy client costs no write per request.

    Replicas write independently; the row keeps the latest time (GREATEST), so the value is never older
    than `every_s` behind the client's real last call, whichever replica served it.
    """

    def __init__(
        self, uow_factory: UowFactory, every_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._uow, self._every_s, self._clock = uow_factory, every_s, clock
        self._written: dict[str, float] = {}

    async def touch(self, client_id: str) -> None:
        now = self._clock()
        last = self._written.get(client_id)
        if last is not None and now - last < self._every_s:
            return
        self._written[client_id] = now
        try:
            async with self._uow() as uow:
                await uow.clients.record_seen(client_id)
                await uow.commit()
        except BaseException:
            self._written.pop(client_id, None)  # try again on the next call
            raise


def last_seen_gauges(uow_factory: UowFactory, metrics: Metrics) -> Callable[[], Awaitable[None]]:
    """rollsync_client_last_seen_timestamp_seconds{client_id} and rollsync_client_scope_info{client_id,scope}.

    Read from the database when /metrics is scraped, so every replica reports the same values.
    """
    seen = Gauge(
        "rollsync_client_last_seen_timestamp_seconds",
        "Unix time of the client's last authenticated call (login or API), per enabled client",
        ["client_id"],
        registry=metrics.registry,
    )
    scopes = Gauge(
        "rollsync_client_scope_info",
        "1 per scope an enabled client holds",
        ["client_id", "scope"],
        registry=metrics.registry,
    )

    async def refresh() -> None:
        async with uow_factory() as uow:  # read only: nothing to commit
            clients = await uow.clients.enabled_seen()
        seen.clear()
        scopes.clear()
        for c in clients:
            for scope in c.scopes:
                scopes.labels(c.client_id, scope).set(1)
            if c.last_seen is not None:
                seen.labels(c.client_id).set(c.last_seen)

    return refresh
