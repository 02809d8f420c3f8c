"""Per-field provenance: what each side last told us, and the value that results. Pure.

A `Slot` keeps the best local candidate (WeChat, AI extraction or manual entry) and what the ERP last
showed, each with its own times; the visible value is derived from the two by the field's strategy
(`resolution.settle`). Keeping the ERP's last value is also what stops ping-pong: a field is pushed only
while our value differs from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

Side = Literal["local", "erp"]


def order_key(value: Any) -> tuple[int, str]:
    """A total order over field values, used only to break exact ties deterministically."""
    if value is None:
        return (0, "")
    return (1, json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))


def latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(frozen=True, slots=True)
class LocalSeen:
    """The local value in force: `since` is when we first saw it, `seen_at` the last capture that showed it."""

    value: Any
    source: str  # wechat / ai / manual
    since: datetime | None
    seen_at: datetime | None
    verified: bool = False
    verified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ErpSeen:
    """What the ERP shows (None: nothing): since the first pull that showed it, up to the last one."""

    value: Any
    since: datetime
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class Pending:
    """A value we could not rank against the one shown (no time, or same pull window): a manual decision."""

    value: Any
    source: str
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Slot:
    value: Any = None
    source: str | None = None
    at: datetime | None = None
    verified: bool = False
    verified_at: datetime | None = None
    local: LocalSeen | None = None
    erp: ErpSeen | None = None
    pending: Pending | None = None

    @property
    def erp_value(self) -> Any:
        return self.erp.value if self.erp else None


EMPTY = Slot()


def observe_erp(seen: ErpSeen | None, value: Any, at: datetime) -> ErpSeen:
    """Fold one pull into what we know of the ERP. Pulls may arrive late (replays): the newest one decides
    the value, an older one can only tell us the value is older than we thought."""
    if seen is None:
        return ErpSeen(value, at, at)
    if at > seen.seen_at:
        return ErpSeen(value, seen.since if value == seen.value else at, at)
    if value == seen.value:
        return replace(seen, since=min(seen.since, at))
    if at == seen.seen_at:  # two different records at one instant: any fixed choice commutes
        return ErpSeen(value, at, at) if order_key(value) > order_key(seen.value) else seen
    if at > seen.since:  # the ERP showed something else after `since`: our value is newer than that
        return replace(seen, since=seen.seen_at)
    return seen


def observe_local(
    seen: LocalSeen | None, value: Any, source: str, at: datetime | None, verified: bool
) -> LocalSeen:
    """Fold one capture into the local candidate. A verified value is replaced only by another verified one."""
    fresh = LocalSeen(value, source, at, at, verified, at if verified else None)
    if seen is None:
        return fresh
    if at is not None and seen.seen_at is not None and at < seen.seen_at:
        return seen  # an older capture: superseded
    if value == seen.value:
        if verified and not seen.verified:
            return replace(
                seen, source=source, seen_at=latest(seen.seen_at, at), verified=True, verified_at=at
            )
        return replace(seen, seen_at=latest(seen.seen_at, at))
    if seen.verified and not verified:
        return seen
    return replace(fresh, seen_at=latest(seen.seen_at, at))  # an undated capture keeps the clock where it was
