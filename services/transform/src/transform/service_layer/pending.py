"""The pending-updates feed as seed 000's client reads it, plus a cursor that never skips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from transform.domain.cursor import START, BadCursorError, Cursor, lost_to_retention

if TYPE_CHECKING:
    from transform.domain.line_feed import FeedEntry
    from transform.service_layer.ports import FeedReader


class BadSinceError(ValueError):
    pass


class CursorExpiredError(ValueError):
    """`since` is older than what the feed still holds: the client must re-sync from the start."""


def _parse_since(since: str) -> datetime | Cursor:
    """`since` is either our cursor or the seed's ISO timestamp."""
    try:
        parsed = datetime.fromisoformat(
            since.replace("Z", "+00:00").replace(" ", "+", 1) if "T" in since else since
        )
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return Cursor.decode(since)
    except BadCursorError as exc:
        raise BadSinceError(since) from exc


def _entry(e: FeedEntry) -> dict[str, Any]:
    return {
        "合同编号": e.contract_no,
        "产品ID": e.product_id,
        "progress_percentage": float(e.progress_percentage),
        "current_process": e.current_process,
        "updated_at": e.updated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "updated_by": e.updated_by,
        "change_id": e.position.encode(),
        "deleted": e.deleted,
        "processes": e.processes,
    }


async def pending_updates(feed: FeedReader, since: str | None, limit: int, overlap_s: int) -> dict[str, Any]:
    asked = _parse_since(since) if since else Cursor(START)
    # One snapshot for the horizon and the page: retention committing in between cannot open a silent gap.
    async with feed.snapshot() as snapshot:
        pruned = await snapshot.horizon()
        horizon = pruned.position if pruned else START
        if isinstance(asked, datetime):
            if pruned is not None and asked - timedelta(seconds=overlap_s) <= pruned.latest_at:
                raise CursorExpiredError(since)
            start = await snapshot.position_before(asked, overlap_s)
        elif lost_to_retention(asked, horizon):
            raise CursorExpiredError(since)
        else:
            start = asked.position
        entries = await snapshot.read_after(start, limit + 1)
    page = entries[:limit]
    next_position = page[-1].position if page else start
    return {
        "contracts": [_entry(e) for e in page],
        "next_cursor": Cursor(next_position, horizon).encode(),
        "has_more": len(entries) > limit,
    }
