"""Turning stored rows into JSON-ready values: JSONB text columns become objects."""

from __future__ import annotations

from typing import Any

import orjson

JSON_COLUMNS = ("fields", "issues", "unknown_statuses", "extra_columns", "processes")


def decode_json_columns(row: dict[str, Any]) -> dict[str, Any]:
    return {k: orjson.loads(v) if k in JSON_COLUMNS and isinstance(v, str) else v for k, v in row.items()}
