"""Small conversions shared by the erp repositories."""

from __future__ import annotations

from typing import Any

import orjson


def as_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def touched(status: str) -> bool:
    """asyncpg's command tag, e.g. 'UPDATE 1'."""
    return status.split()[-1] != "0"
