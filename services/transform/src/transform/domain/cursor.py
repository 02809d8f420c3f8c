"""Opaque feed cursors: a position (transaction id, sequence) in the change feed, and the retention horizon
when the cursor was issued. Pure."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass


class BadCursorError(ValueError):
    pass


@dataclass(frozen=True, order=True, slots=True)
class Position:
    txid: int
    seq: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"v1:{self.txid}:{self.seq}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            version, txid, seq = raw.split(":")
            if version != "v1":
                raise BadCursorError(cursor)
            return cls(int(txid), int(seq))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise BadCursorError(cursor) from exc


START = Position(0, 0)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A client's place in the feed, and the horizon (highest position pruned) when the cursor was issued."""

    position: Position
    issued_under: Position = START

    def encode(self) -> str:
        p, h = self.position, self.issued_under
        return base64.urlsafe_b64encode(f"v2:{p.txid}:{p.seq}:{h.txid}:{h.seq}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Cursor:
        """v2 cursors, and v1 (a bare position, issued before retention existed)."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            version, *numbers = raw.split(":")
            if version == "v1" and len(numbers) == 2:
                return cls(Position(int(numbers[0]), int(numbers[1])))
            if version == "v2" and len(numbers) == 4:
                values = [int(n) for n in numbers]
                return cls(Position(values[0], values[1]), Position(values[2], values[3]))
            raise BadCursorError(cursor)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise BadCursorError(cursor) from exc


def lost_to_retention(cursor: Cursor, pruned_through: Position) -> bool:
    """Did retention prune a change after `cursor` since it was issued? Then the client may have missed it.

    Pruning at or before the horizon the cursor was issued under does not count: while a client re-syncs through
    the old part of the feed (each line's newest change stays there, whatever its age), what goes is only ever
    superseded by a change still ahead of it. From the start (a re-sync) nothing is ever lost. `pruned_through`
    is START while nothing has been pruned.
    """
    return cursor.position != START and pruned_through > max(cursor.position, cursor.issued_under)
