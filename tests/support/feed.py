"""Reading the pending-updates feed as the factory's agent does: from a cursor, page by page."""

from __future__ import annotations

from typing import Any

import httpx


async def cursor_now(http: httpx.AsyncClient, transform: str, auth: dict[str, str]) -> str:
    """A cursor just before anything not yet committed: later changes all come after it."""
    r = await http.get(
        f"{transform}/sync/pending-updates", params={"since": "2100-01-01T00:00:00Z"}, headers=auth
    )
    assert r.status_code == 200, r.text
    return str(r.json()["next_cursor"])


async def drain(
    http: httpx.AsyncClient, transform: str, auth: dict[str, str], cursor: str
) -> tuple[list[dict[str, Any]], str]:
    """Every item servable now after `cursor`, and the cursor to continue from."""
    items: list[dict[str, Any]] = []
    while True:
        r = await http.get(
            f"{transform}/sync/pending-updates", params={"since": cursor, "limit": 500}, headers=auth
        )
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["contracts"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor
