"""Turning database values into JSON: decimals as numbers, JSONB text as objects, times as ISO-8601."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from fastapi.responses import Response

JSON_COLUMNS = ("fields", "issues", "unknown_statuses", "extra_columns", "processes")


def default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body, default=default), status_code, media_type="application/json")


def decode_json_columns(row: dict[str, Any]) -> dict[str, Any]:
    return {k: orjson.loads(v) if k in JSON_COLUMNS and isinstance(v, str) else v for k, v in row.items()}
