"""Feed cursors are opaque, round-trip, and refuse garbage."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transform.domain.cursor import START, BadCursorError, Cursor, Position, lost_to_retention


@given(st.integers(0, 2**62), st.integers(0, 2**62))
def test_positions_round_trip(txid: int, seq: int) -> None:
    assert Position.decode(Position(txid, seq).encode()) == Position(txid, seq)


@pytest.mark.parametrize("garbage", ["", "abc", "djI6MTox", "2023-09-17", "v1:1:2", "dj E6eDoy"])
def test_garbage_is_a_bad_cursor(garbage: str) -> None:
    with pytest.raises(BadCursorError):
        Position.decode(garbage)


def test_positions_order_by_transaction_then_sequence() -> None:
    assert Position(1, 99) < Position(2, 1) < Position(2, 2)


def test_a_cursor_expires_only_when_a_change_after_it_is_pruned_after_it_was_issued() -> None:
    horizon = Position(100, 7)
    assert lost_to_retention(Cursor(Position(100, 6)), horizon)  # a v1 cursor: issued before any pruning
    assert lost_to_retention(Cursor(Position(99, 2**40), Position(50, 1)), horizon)
    assert not lost_to_retention(Cursor(Position(100, 7)), horizon)  # all pruned was at or before it: seen
    assert not lost_to_retention(Cursor(Position(101, 0)), horizon)
    # re-syncing below the horizon it was issued under: what goes there is superseded by a change ahead
    assert not lost_to_retention(Cursor(Position(60, 1), issued_under=horizon), horizon)
    assert lost_to_retention(Cursor(Position(60, 1), issued_under=horizon), Position(101, 1))
    assert not lost_to_retention(Cursor(START), horizon)  # a re-sync from the start: each line's newest stays
    assert not lost_to_retention(Cursor(Position(1, 1)), START)  # nothing pruned yet


@given(st.integers(0, 2**62), st.integers(0, 2**62), st.integers(0, 2**62), st.integers(0, 2**62))
def test_cursors_round_trip_and_v1_cursors_still_decode(a: int, b: int, c: int, d: int) -> None:
    cursor = Cursor(Position(a, b), Position(c, d))
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode(Position(a, b).encode()) == Cursor(Position(a, b), START)


@pytest.mark.parametrize("raw", ["v2:1:2:3", "v3:1:2:3:4", "v2:a:2:3:4", "v1:1:2:3"])
def test_malformed_cursors_are_refused(raw: str) -> None:
    with pytest.raises(BadCursorError):
        Cursor.decode(base64.urlsafe_b64encode(raw.encode()).decode())
