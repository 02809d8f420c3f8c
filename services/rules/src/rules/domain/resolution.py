"""Which side's value a field shows, by the field's strategy (DOMAIN.md §6). Pure."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rules.domain.fields import Strategy
from rules.domain.provenance import Pending, Side, Slot

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from rules.domain.provenance import ErpSeen, LocalSeen


def later(local_at: datetime | None, erp_at: datetime | None, window: timedelta) -> Side | None:
    """The side whose value is later, or None when we cannot tell.

    The ERP keeps no modification time: `erp_at` is the pull that first showed the value, so the ERP change
    happened within `window` (the pull interval) before it. A local change inside that window is a tie.
    """
    if local_at is None or erp_at is None:
        return None
    if local_at > erp_at:
        return "local"
    if window.total_seconds() > 0 and local_at > erp_at - window:
        return None
    return "erp"


def pick(
    strategy: Strategy, local: LocalSeen | None, erp: ErpSeen | None, shown: object, window: timedelta
) -> tuple[Side | None, Side | None]:
    """(the side shown, the side left for a manual decision)."""
    lv = local.value if local else None
    ev = erp.value if erp else None
    if strategy is Strategy.ERP_ALWAYS:
        return ("erp" if ev is not None else None), None
    if lv is None:
        return ("erp" if ev is not None else None), None
    assert local is not None
    if ev is None:
        return "local", None
    assert erp is not None
    if lv == ev:
        return ("local" if local.verified else "erp"), None
    if strategy is Strategy.ERP_UNLESS_VERIFIED:
        return ("local" if local.verified else "erp"), None
    if strategy is Strategy.LOCAL_WINS:
        return "local", None
    side = later(local.since, erp.since, window)
    if side is not None:
        return side, None
    kept: Side = "local" if shown == lv else "erp"  # undecidable: the value shown stays
    return kept, ("erp" if kept == "local" else "local")


def settle(slot: Slot, strategy: Strategy, window: timedelta) -> Slot:
    """Derive the shown value, its source, time and verification from what each side told us."""
    local, erp = slot.local, slot.erp
    shown, waiting = pick(strategy, local, erp, slot.value, window)
    pending = None
    if waiting == "erp" and erp is not None:
        pending = Pending(erp.value, "erp", erp.since)
    elif waiting == "local" and local is not None:
        pending = Pending(local.value, local.source, local.since)
    if shown == "local" and local is not None:
        return replace(
            slot,
            value=local.value,
            source=local.source,
            at=local.since,
            verified=local.verified,
            verified_at=local.verified_at,
            pending=pending,
        )
    if shown == "erp" and erp is not None:
        confirmed = local is not None and local.verified and local.value == erp.value
        return replace(
            slot,
            value=erp.value,
            source="erp",
            at=erp.since,
            verified=confirmed,
            verified_at=local.verified_at if confirmed and local else None,
            pending=pending,
        )
    return replace(slot, value=None, source=None, at=None, verified=False, verified_at=None, pending=None)
