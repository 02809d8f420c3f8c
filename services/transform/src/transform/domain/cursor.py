"""Opaque feed cursors: a position (transaction id, sequence) in the change feed. Pure."""

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


def lost_to_retention(after: Position, pruned_through: Position | None) -> bool:
    """A cursor before the last pruned position may have missed a pruned change; START (a re-sync) never has:
    retention keeps every line's newest change."""
    return pruned_through is not None and after != START and after < pruned_through
