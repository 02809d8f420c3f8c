"""The contract batch handler on fakes: versions, overwrite, deletes, the daily row limit, Idempotency-Key
replays and the deadlock retry, all in one unit of work that commits or leaves nothing behind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest

from common import topics
from common.events.ingest import HetongRowChanged
from ingest.service_layer import batches
from ingest.service_layer.batches import UploadBatch, upload_batch
from ingest.service_layer.errors import BusyError, DailyRowLimitError, IdempotencyKeyReusedError
from tests.ingest.fakes import FakeIngestUnitOfWork, add_client

HT = topics.INGEST_HETONG_ROW_CHANGED


def _row(contract: str, product: str, **extra: str) -> dict[str, str]:
    return {"合同编号": contract, "产品ID": product, **extra}


def _cmd(
    rows: list[object],
    *,
    deleted: list[object] | None = None,
    overwrite: bool = False,
    key: str | None = None,
    request_hash: str = "h1",
) -> UploadBatch:
    return UploadBatch("agent", rows, overwrite, "local", key, request_hash, "corr", deleted or [])


def _events(uow: FakeIngestUnitOfWork) -> list[HetongRowChanged]:
    return [p.envelope.payload for p in uow.outbox.published if p.topic == HT]


@pytest.fixture
def uow() -> FakeIngestUnitOfWork:
    uow = FakeIngestUnitOfWork()
    add_client(uow.store, "agent", rows_per_day=100)
    return uow


async def _upload(uow: FakeIngestUnitOfWork, cmd: UploadBatch) -> dict[str, Any]:
    answer: dict[str, Any] = orjson.loads(await upload_batch(uow.factory, cmd))
    return answer


async def test_new_lines_are_accepted_with_version_1_and_one_event_each(uow: FakeIngestUnitOfWork) -> None:
    answer = await _upload(uow, _cmd([_row("HT1", "P1", 数量="2"), _row("HT1", "P2"), {"产品ID": "x"}]))
    assert (answer["accepted"], answer["unchanged"], answer["rejected"]) == (2, 0, 1)
    assert [r["version"] for r in answer["results"] if r["status"] == "accepted"] == [1, 1]
    events = _events(uow)
    assert [(e.contract_no, e.product_id, e.version, e.deleted) for e in events] == [
        ("HT1", "P1", 1, False),
        ("HT1", "P2", 1, False),
    ]
    assert events[0].row == _row("HT1", "P1", 数量="2") and events[0].client_id == "agent"
    assert [p.key for p in uow.outbox.published] == ["HT1/P1", "HT1/P2"]
    assert uow.committed == 1


async def test_a_changed_line_is_replaced_only_with_overwrite(uow: FakeIngestUnitOfWork) -> None:
    await _upload(uow, _cmd([_row("HT1", "P1", 数量="2")]))
    kept = await _upload(uow, _cmd([_row("HT1", "P1", 数量="3")]))
    assert kept["results"][0] == {
        "index": 0,
        "合同编号": "HT1",
        "产品ID": "P1",
        "status": "unchanged",
        "reason": "exists_not_overwritten",
    }
    same = await _upload(uow, _cmd([_row("HT1", "P1", 数量="2")], overwrite=True))
    assert same["results"][0]["reason"] == "same_content"
    replaced = await _upload(uow, _cmd([_row("HT1", "P1", 数量="3")], overwrite=True))
    assert replaced["results"][0]["version"] == 2
    assert [e.version for e in _events(uow)] == [1, 2]
    assert uow.store.lines[("HT1", "P1")].row["数量"] == "3"


async def test_a_delete_publishes_an_empty_row_and_a_second_one_counts_nothing(
    uow: FakeIngestUnitOfWork,
) -> None:
    await _upload(uow, _cmd([_row("HT1", "P1")]))
    gone = await _upload(uow, _cmd([], deleted=[_row("HT1", "P1"), _row("HT9", "P9")]))
    assert gone["deleted"] == 1
    assert [(r["status"], r.get("version"), r.get("reason")) for r in gone["deleted_results"]] == [
        ("deleted", 2, None),
        ("unchanged", None, "not_found"),
    ]
    again = await _upload(uow, _cmd([], deleted=[_row("HT1", "P1")]))
    assert again["deleted_results"][0]["reason"] == "already_deleted"
    last = _events(uow)[-1]
    assert (last.deleted, last.row, last.version) == (True, {}, 2)
    assert len(_events(uow)) == 2


async def test_a_deleted_line_uploaded_again_comes_back_without_overwrite(uow: FakeIngestUnitOfWork) -> None:
    await _upload(uow, _cmd([_row("HT1", "P1")]))
    await _upload(uow, _cmd([], deleted=[_row("HT1", "P1")]))
    back = await _upload(uow, _cmd([_row("HT1", "P1")]))
    assert back["results"][0]["version"] == 3
    assert uow.store.lines[("HT1", "P1")].deleted is False


async def test_a_line_both_uploaded_and_deleted_is_rejected_on_both_sides(uow: FakeIngestUnitOfWork) -> None:
    answer = await _upload(uow, _cmd([_row("HT1", "P1")], deleted=[_row("HT1", "P1")]))
    assert answer["results"][0]["reason"] == "uploaded_and_deleted"
    assert answer["deleted_results"][0]["reason"] == "uploaded_and_deleted"
    assert not uow.store.lines and not uow.outbox.published


async def test_a_batch_over_the_daily_row_limit_is_refused_whole(uow: FakeIngestUnitOfWork) -> None:
    await _upload(uow, _cmd([_row("HT1", f"P{i}") for i in range(60)]))
    with pytest.raises(DailyRowLimitError) as refused:
        await _upload(
            uow,
            _cmd(
                [_row("HT2", f"P{i}") for i in range(30)], deleted=[_row("HT1", f"P{i}") for i in range(11)]
            ),
        )
    assert "100" in refused.value.message and 0 < refused.value.retry_after_s <= 86_400
    assert not [k for k in uow.store.lines if k[0] == "HT2"]
    assert not any(line.deleted for line in uow.store.lines.values())
    assert len(_events(uow)) == 60 and uow.committed == 1
    assert sum(uow.store.daily_rows.values()) == 60  # the refused batch counted nothing


async def test_the_daily_counter_is_taken_last_so_its_row_lock_is_held_only_for_the_commit(
    uow: FakeIngestUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One client's batches queue on the counter's row lock until COMMIT: taken first, it serialised whole
    batches (G6 measured 108 req/s; taken last, 131), issue 12."""
    seen: list[bool] = []
    count = uow.clients.add_daily_rows

    async def counting(client_id: str, day_start: datetime, rows: int) -> tuple[bool, int]:
        seen.append(("HT1", "P1") in uow.store.lines and bool(uow.store.answers))
        return await count(client_id, day_start, rows)

    monkeypatch.setattr(uow.clients, "add_daily_rows", counting)
    await _upload(uow, _cmd([_row("HT1", "P1")], key="k1"))
    assert seen == [True]


async def test_a_replayed_key_returns_the_first_answer_and_writes_nothing(uow: FakeIngestUnitOfWork) -> None:
    first = await upload_batch(uow.factory, _cmd([_row("HT1", "P1")], key="k1"))
    again = await upload_batch(uow.factory, _cmd([_row("HT1", "P1")], key="k1"))
    assert again == first
    assert len(_events(uow)) == 1 and uow.committed == 1
    assert sum(uow.store.daily_rows.values()) == 1  # a replay counts no rows
    assert uow.store.locks == ["idempotency:agent:k1", "idempotency:agent:k1"]


async def test_a_key_reused_with_another_body_is_refused(uow: FakeIngestUnitOfWork) -> None:
    await upload_batch(uow.factory, _cmd([_row("HT1", "P1")], key="k1"))
    with pytest.raises(IdempotencyKeyReusedError):
        await upload_batch(uow.factory, _cmd([_row("HT1", "P2")], key="k1", request_hash="h2"))
    assert ("HT1", "P2") not in uow.store.lines


async def test_a_deadlocked_attempt_is_rolled_back_and_run_again(
    uow: FakeIngestUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ingest.service_layer.batches.full_jitter", lambda *_: 0.0)
    uow.lines.deadlocks = 2
    answer = await _upload(uow, _cmd([_row("HT1", "P1")], key="k1"))
    assert answer["accepted"] == 1 and uow.lines.upserts == 3
    assert uow.rolled_back == 2 and uow.committed == 1
    assert sum(uow.store.daily_rows.values()) == 1  # the rolled-back attempts counted nothing
    assert len(_events(uow)) == 1


async def test_after_five_deadlocks_the_answer_is_busy(
    uow: FakeIngestUnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ingest.service_layer.batches.full_jitter", lambda *_: 0.0)
    uow.lines.deadlocks = batches.DEADLOCK_ATTEMPTS
    with pytest.raises(BusyError):
        await _upload(uow, _cmd([_row("HT1", "P1")]))
    assert uow.lines.upserts == batches.DEADLOCK_ATTEMPTS
    assert not uow.store.lines and not uow.outbox.published and uow.committed == 0
