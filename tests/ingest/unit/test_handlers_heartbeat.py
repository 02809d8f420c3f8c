"""Last seen on fakes: one committed write per client and interval, a failed write is tried again, and the
gauges show enabled clients only."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from common.metrics import Metrics
from ingest.service_layer.heartbeat import LastSeen, last_seen_gauges
from tests.ingest.fakes import FakeIngestUnitOfWork, add_client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_committed_write_per_client_and_interval() -> None:
    uow, clock = FakeIngestUnitOfWork(), Clock()
    add_client(uow.store, "agent")
    add_client(uow.store, "app")
    seen = LastSeen(uow.factory, every_s=30, clock=clock)
    for _ in range(10):
        await seen.touch("agent")
        clock.now += 1
    assert uow.committed == 1 and uow.store.last_seen == {"agent": 1000.0}
    await seen.touch("app")  # another client has its own interval
    clock.now += 30
    await seen.touch("agent")
    assert uow.committed == 3


async def test_a_failed_write_is_tried_again_on_the_next_call() -> None:
    uow, clock = FakeIngestUnitOfWork(), Clock()
    add_client(uow.store, "agent")

    async def broken(client_id: str) -> None:
        raise ConnectionError("database down")

    seen = LastSeen(uow.factory, every_s=30, clock=clock)
    real, uow.clients.record_seen = uow.clients.record_seen, broken  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await seen.touch("agent")
    uow.clients.record_seen = real  # type: ignore[method-assign]
    await seen.touch("agent")  # within the interval, but the first write never happened
    assert uow.committed == 1 and "agent" in uow.store.last_seen


async def test_the_gauges_show_enabled_clients_and_their_scopes() -> None:
    uow = FakeIngestUnitOfWork()
    add_client(uow.store, "agent", scopes=frozenset({"contracts:write"}))
    add_client(uow.store, "old", scopes=frozenset({"contracts:write"}))
    await uow.clients.set_disabled("old", True)
    uow.store.last_seen.update({"agent": 1234.0, "old": 99.0})
    metrics = Metrics("ingest")
    await last_seen_gauges(uow.factory, metrics)()
    text = generate_latest(metrics.registry).decode()
    assert 'rollsync_client_last_seen_timestamp_seconds{client_id="agent"} 1234.0' in text
    assert 'rollsync_client_scope_info{client_id="agent",scope="contracts:write"} 1.0' in text
    assert 'client_id="old"' not in text
