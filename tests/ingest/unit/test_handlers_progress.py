"""The progress handler on fakes: the contract and processes are checked, versions guard every state, the
reporter is flagged, one event per process, and an Idempotency-Key replay changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from common import topics
from common.events.ingest import ProgressReported
from common.events.transform import ProcessChanged
from ingest.domain.employees import Employee
from ingest.domain.progress import ProgressReport, parse_report
from ingest.service_layer.errors import (
    ContractNotFoundError,
    IdempotencyKeyReusedError,
    ProgressConflictError,
    UnknownProcessError,
)
from ingest.service_layer.idempotency import IdempotentRequest
from ingest.service_layer.progress import report_progress
from tests.ingest.fakes import FakeIngestUnitOfWork, StoredLine

AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeIngestUnitOfWork:
    uow = FakeIngestUnitOfWork()
    uow.store.lines[("HT1", "P1")] = StoredLine("h", 1, {"合同编号": "HT1", "产品ID": "P1", "喷砂": ""})
    uow.store.catalog[7] = ProcessChanged(
        process_id=7, name="热喷涂", aliases=["喷涂"], former_names=[], active=True, version=1, change="added"
    )
    uow.store.employees["E1"] = (Employee(0, "E1", "张三", "", (), True), 1, True)
    return uow


def _report(body: dict[str, Any], contract: str = "HT1") -> ProgressReport:
    return parse_report(contract, {"updated_by": "E1", "update_time": AT.isoformat(), **body})


async def _report_progress(
    uow: FakeIngestUnitOfWork, report: ProgressReport, idem: IdempotentRequest | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = orjson.loads(await report_progress(uow.factory, report, "app", "corr", idem))
    return answer


def _events(uow: FakeIngestUnitOfWork) -> list[ProgressReported]:
    return uow.outbox.payloads(topics.INGEST_PROGRESS_REPORTED)


async def test_an_alias_is_stored_and_published_under_the_cloud_name(uow: FakeIngestUnitOfWork) -> None:
    answer = await _report_progress(uow, _report({"喷涂": "已完成", "喷砂": "进行中"}))
    assert answer["updates"] == [
        {"process": "热喷涂", "status": "已完成", "version": 1},
        {"process": "喷砂", "status": "进行中", "version": 1},
    ]
    assert set(uow.store.progress) == {("HT1", "", "热喷涂"), ("HT1", "", "喷砂")}
    events = _events(uow)
    assert [(e.process, e.version, e.client_id, e.reporter_flag) for e in events] == [
        ("热喷涂", 1, "app", None),
        ("喷砂", 1, "app", None),
    ]
    assert [p.key for p in uow.outbox.published] == ["HT1", "HT1"]
    assert uow.store.locks == ["progress:HT1::热喷涂", "progress:HT1::喷砂"]
    assert uow.committed == 1


async def test_each_report_raises_the_version(uow: FakeIngestUnitOfWork) -> None:
    await _report_progress(uow, _report({"热喷涂": "进行中"}))
    answer = await _report_progress(uow, _report({"热喷涂": "已完成"}))
    assert answer["updates"][0]["version"] == 2
    assert uow.store.progress[("HT1", "", "热喷涂")].status == "已完成"


async def test_an_unknown_contract_or_line_is_not_found(uow: FakeIngestUnitOfWork) -> None:
    with pytest.raises(ContractNotFoundError):
        await _report_progress(uow, _report({"热喷涂": "已完成"}, contract="HT404"))
    with pytest.raises(ContractNotFoundError):
        await _report_progress(uow, _report({"热喷涂": "已完成", "产品ID": "P404"}))
    assert not uow.store.progress and uow.committed == 0


async def test_an_unknown_process_writes_nothing_even_beside_a_known_one(uow: FakeIngestUnitOfWork) -> None:
    with pytest.raises(UnknownProcessError) as caught:
        await _report_progress(uow, _report({"热喷涂": "已完成", "打磨": "已完成"}))
    assert caught.value.code == "unknown_process"
    assert not uow.store.progress and not uow.outbox.published


async def test_two_names_of_one_process_are_refused(uow: FakeIngestUnitOfWork) -> None:
    with pytest.raises(UnknownProcessError) as caught:
        await _report_progress(uow, _report({"热喷涂": "已完成", "喷涂": "进行中"}))
    assert caught.value.code == "duplicate_process"


async def test_an_older_update_time_is_stale_and_rolls_back_the_whole_report(
    uow: FakeIngestUnitOfWork,
) -> None:
    await _report_progress(uow, _report({"热喷涂": "已完成"}))
    older = parse_report(
        "HT1", {"喷砂": "已完成", "热喷涂": "返工", "updated_by": "E1", "update_time": "2024-05-01T09:00:00Z"}
    )
    with pytest.raises(ProgressConflictError) as caught:
        await _report_progress(uow, older)
    assert caught.value.code == "stale_update"
    assert ("HT1", "", "喷砂") not in uow.store.progress  # written before the stale one: rolled back
    assert uow.store.progress[("HT1", "", "热喷涂")].status == "已完成"
    assert len(_events(uow)) == 1


async def test_an_expected_version_that_moved_on_is_a_conflict(uow: FakeIngestUnitOfWork) -> None:
    await _report_progress(uow, _report({"热喷涂": "进行中"}))
    with pytest.raises(ProgressConflictError) as caught:
        await _report_progress(uow, _report({"热喷涂": "已完成", "expected_version": 5}))
    assert caught.value.code == "version_conflict"
    assert (await _report_progress(uow, _report({"热喷涂": "已完成", "expected_version": 1})))["updates"][0][
        "version"
    ] == 2


@pytest.mark.parametrize(("reporter", "flag"), [("张三", None), ("nobody", "unknown"), ("E2", "inactive")])
async def test_the_reporter_flag_is_stored_and_published(
    uow: FakeIngestUnitOfWork, reporter: str, flag: str | None
) -> None:
    uow.store.employees["E2"] = (Employee(0, "E2", "李四", "", (), False), 1, True)
    await _report_progress(uow, _report({"热喷涂": "已完成", "updated_by": reporter}))
    assert uow.store.progress[("HT1", "", "热喷涂")].flag == flag
    assert _events(uow)[0].reporter_flag == flag


async def test_a_replay_returns_the_first_answer_and_emits_nothing(uow: FakeIngestUnitOfWork) -> None:
    idem = IdempotentRequest("app", "k1", "hash-1")
    first = await report_progress(uow.factory, _report({"热喷涂": "进行中"}), "app", "c", idem)
    again = await report_progress(uow.factory, _report({"热喷涂": "进行中"}), "app", "c", idem)
    assert again == first and len(_events(uow)) == 1
    assert uow.store.progress[("HT1", "", "热喷涂")].version == 1
    with pytest.raises(IdempotencyKeyReusedError):
        await report_progress(
            uow.factory, _report({"热喷涂": "已完成"}), "app", "c", IdempotentRequest("app", "k1", "hash-2")
        )
