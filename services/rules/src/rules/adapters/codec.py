"""Provenance as JSON (the `customers_unified.provenance` column) and back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import orjson

from rules.domain.provenance_json import slot_from_json, slot_to_json

if TYPE_CHECKING:
    from rules.domain.provenance import Slot


def dump_fields(fields: dict[str, Slot]) -> str:
    return dumps({name: slot_to_json(slot) for name, slot in sorted(fields.items())})


def load_fields(text: str | None) -> dict[str, Slot]:
    return {name: slot_from_json(data) for name, data in orjson.loads(text or "{}").items()}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
