"""Feed cursors are opaque, round-trip, and refuse garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transform.domain.cursor import START, BadCursorError, Position, lost_to_retention


@given(st.integers(0, 2**62), st.integers(0, 2**62))
def test_positions_round_trip(txid: int, seq: int) -> None:
    assert Position.decode(Position(txid, seq).encode()) == Position(txid, seq)


@pytest.mark.parametrize("garbage", ["", "abc", "djI6MTox", "2023-09-17", "v1:1:2", "dj E6eDoy"])
def test_garbage_is_a_bad_cursor(garbage: str) -> None:
    with pytest.raises(BadCursorError):
        Position.decode(garbage)


def test_positions_order_by_transaction_then_sequence() -> None:
    assert Position(1, 99) < Position(2, 1) < Position(2, 2)


def test_only_a_cursor_before_the_pruned_horizon_is_lost_to_retention() -> None:
    horizon = Position(100, 7)
    assert lost_to_retention(Position(100, 6), horizon)
    assert lost_to_retention(Position(99, 2**40), horizon)
    assert not lost_to_retention(Position(100, 7), horizon)  # everything pruned was at or before it: seen
    assert not lost_to_retention(Position(101, 0), horizon)
    assert not lost_to_retention(START, horizon)  # a re-sync from the start: each line's newest change stays
    assert not lost_to_retention(Position(1, 1), None)  # nothing pruned yet
