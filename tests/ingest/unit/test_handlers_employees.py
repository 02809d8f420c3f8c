"""The employee list handlers on fakes: created and changed rows publish EmployeeChanged with their version,
unchanged rows publish nothing, replays change nothing, and the start-up job announces old rows once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from prometheus_client import generate_latest

from common import topics
from common.events.ingest import EmployeeChanged
from common.metrics import Metrics
from ingest.domain.employees import Employee
from ingest.service_layer.employees import announce_unannounced, flagged_reporter_gauge, upload_employees
from ingest.service_layer.errors import IdempotencyKeyReusedError
from ingest.service_layer.idempotency import IdempotentRequest
from tests.ingest.fakes import FakeIngestUnitOfWork, StoredProgress

_AT = datetime(2024, 5, 1, tzinfo=UTC)
ZHANG = {"number": "E1", "name": "张三", "workshop": "一车间", "processes": ["喷砂", "热喷涂"]}


async def _upload(
    uow: FakeIngestUnitOfWork, rows: list[object], idem: IdempotentRequest | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = orjson.loads(await upload_employees(uow.factory, rows, "local", idem, "corr"))
    return answer


def _events(uow: FakeIngestUnitOfWork) -> list[EmployeeChanged]:
    return uow.outbox.payloads(topics.INGEST_EMPLOYEE_CHANGED)


async def test_created_changed_and_unchanged_rows() -> None:
    uow = FakeIngestUnitOfWork()
    first = await _upload(uow, [ZHANG, {"number": "E2", "name": "李四"}, {"name": "no number"}])
    assert (first["accepted"], first["unchanged"], first["rejected"]) == (2, 0, 1)
    assert first["results"][2]["reason"] == "invalid_employee"
    second = await _upload(uow, [ZHANG, {"number": "E2", "name": "李四", "active": False}])
    assert [r["status"] for r in second["results"]] == ["unchanged", "accepted"]
    assert [(e.number, e.version, e.active) for e in _events(uow)] == [
        ("E1", 1, True),
        ("E2", 1, True),
        ("E2", 2, False),
    ]
    assert _events(uow)[0].processes == ["喷砂", "热喷涂"]
    assert [p.key for p in uow.outbox.published] == ["E1", "E2", "E2"]
    assert uow.committed == 2


async def test_a_replay_answers_the_same_and_a_reused_key_is_refused() -> None:
    uow = FakeIngestUnitOfWork()
    idem = IdempotentRequest("local", "k1", "hash-1")
    first = await upload_employees(uow.factory, [ZHANG], "local", idem, "c")
    assert await upload_employees(uow.factory, [ZHANG], "local", idem, "c") == first
    with pytest.raises(IdempotencyKeyReusedError):
        await _upload(uow, [{**ZHANG, "name": "张三丰"}], IdempotentRequest("local", "k1", "hash-2"))
    assert uow.store.employees["E1"][0].name == "张三" and len(_events(uow)) == 1


async def test_unannounced_rows_are_published_once_with_their_version() -> None:
    uow = FakeIngestUnitOfWork()
    uow.store.employees["E7"] = (Employee(0, "E7", "王五", "", ("喷砂",), True), 3, False)
    uow.store.employees["E8"] = (Employee(0, "E8", "赵六", "", (), True), 1, True)
    assert await announce_unannounced(uow.factory, "start") == 1
    assert [(e.number, e.version) for e in _events(uow)] == [("E7", 3)]
    assert uow.store.employees["E7"][2] is True
    assert await announce_unannounced(uow.factory, "start") == 0
    assert len(_events(uow)) == 1


async def test_the_flagged_reporter_gauge_counts_stored_flags() -> None:
    uow = FakeIngestUnitOfWork()
    for i, flag in enumerate(["unknown", "unknown", "inactive", None]):
        uow.store.progress[("HT1", "", f"p{i}")] = StoredProgress("已完成", 1, "x", _AT, flag)
    metrics = Metrics("ingest")
    await flagged_reporter_gauge(uow.factory, metrics)()
    text = generate_latest(metrics.registry).decode()
    assert 'rollsync_progress_flagged_reporter{flag="unknown"} 2.0' in text
    assert 'rollsync_progress_flagged_reporter{flag="inactive"} 1.0' in text
    assert uow.committed == 0 and not uow.outbox.published
