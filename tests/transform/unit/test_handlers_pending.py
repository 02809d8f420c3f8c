"""The pending-updates feed's paging and its horizon on a fake reader: a page never hides a gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.transform.fakes import FakeFeedReader, feed_entry
from transform.domain.cursor import Cursor, Position
from transform.domain.line_feed import Horizon
from transform.service_layer.pending import BadSinceError, CursorExpiredError, pending_updates

AT = datetime(2026, 12, 1, tzinfo=UTC)


async def test_pages_follow_the_feed_order_and_the_cursor_resumes_after_the_last_item() -> None:
    reader = FakeFeedReader([feed_entry(t, f"HT{t}") for t in (5, 6, 7)])
    first = await pending_updates(reader, None, 2, 300)
    assert [c["合同编号"] for c in first["contracts"]] == ["HT5", "HT6"]
    assert first["has_more"] is True
    assert first["contracts"][0]["updated_at"] == "2026-12-01T00:00:00Z"

    second = await pending_updates(reader, first["next_cursor"], 2, 300)
    assert [c["合同编号"] for c in second["contracts"]] == ["HT7"]
    assert second["has_more"] is False
    assert Cursor.decode(second["next_cursor"]).position == Position(7, 1)
    assert reader.snapshots == 2  # horizon and page read in one snapshot each time


async def test_an_empty_page_keeps_the_callers_position() -> None:
    reader = FakeFeedReader([])
    body = await pending_updates(reader, Cursor(Position(9, 9)).encode(), 10, 300)
    assert body["contracts"] == []
    assert Cursor.decode(body["next_cursor"]).position == Position(9, 9)


async def test_a_cursor_issued_before_retention_pruned_past_it_has_expired() -> None:
    pruned = Horizon(Position(8, 1), AT)
    reader = FakeFeedReader([feed_entry(9, "HT9")], pruned)
    with pytest.raises(CursorExpiredError):
        await pending_updates(reader, Cursor(Position(5, 1)).encode(), 10, 300)
    body = await pending_updates(reader, None, 10, 300)  # a re-sync from the start is never lost
    assert Cursor.decode(body["next_cursor"]).issued_under == Position(8, 1)


async def test_a_timestamp_inside_the_pruned_window_widened_by_the_overlap_has_expired() -> None:
    reader = FakeFeedReader([feed_entry(9, "HT9", AT + timedelta(hours=1))], Horizon(Position(8, 1), AT))
    with pytest.raises(CursorExpiredError):
        await pending_updates(reader, (AT + timedelta(seconds=200)).isoformat(), 10, 300)
    body = await pending_updates(reader, (AT + timedelta(seconds=400)).isoformat(), 10, 300)
    assert [c["合同编号"] for c in body["contracts"]] == ["HT9"]


async def test_since_that_is_neither_a_time_nor_a_cursor_is_refused() -> None:
    with pytest.raises(BadSinceError):
        await pending_updates(FakeFeedReader([]), "yesterday", 10, 300)
