"""A field's provenance as plain JSON-ready data and back: the stored column and the operator's view share it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rules.domain.provenance import ErpSeen, LocalSeen, Pending, Slot


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def slot_to_json(slot: Slot) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": slot.value,
        "source": slot.source,
        "at": _iso(slot.at),
        "verified": slot.verified,
        "verified_at": _iso(slot.verified_at),
    }
    if slot.local is not None:
        lo = slot.local
        out["local"] = {
            "value": lo.value,
            "source": lo.source,
            "since": _iso(lo.since),
            "seen_at": _iso(lo.seen_at),
            "verified": lo.verified,
            "verified_at": _iso(lo.verified_at),
        }
    if slot.erp is not None:
        out["erp"] = {
            "value": slot.erp.value,
            "since": _iso(slot.erp.since),
            "seen_at": _iso(slot.erp.seen_at),
        }
    if slot.pending is not None:
        out["pending"] = {
            "value": slot.pending.value,
            "source": slot.pending.source,
            "at": _iso(slot.pending.at),
        }
    return out


def slot_from_json(data: dict[str, Any]) -> Slot:
    lo, erp, pending = data.get("local"), data.get("erp"), data.get("pending")
    return Slot(
        value=data.get("value"),
        source=data.get("source"),
        at=_time(data.get("at")),
        verified=bool(data.get("verified")),
        verified_at=_time(data.get("verified_at")),
        local=LocalSeen(
            lo["value"],
            lo["source"],
            _time(lo.get("since")),
            _time(lo.get("seen_at")),
            bool(lo.get("verified")),
            _time(lo.get("verified_at")),
        )
        if lo
        else None,
        erp=ErpSeen(erp["value"], _required(erp["since"]), _required(erp["seen_at"])) if erp else None,
        pending=Pending(pending["value"], pending["source"], _time(pending.get("at"))) if pending else None,
    )


def _required(value: str) -> datetime:
    return datetime.fromisoformat(value)
