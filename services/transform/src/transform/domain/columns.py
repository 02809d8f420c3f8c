"""How hetong column names are compared."""

from __future__ import annotations

from functools import lru_cache

from transform.domain.normalize import normalize_text

# Written by the local sync job itself, so they say nothing about the contract.
BOOKKEEPING_COLUMNS = frozenset({"sync_status", "sync_time", "cloud_contract_id", "last_sync_hash"})


@lru_cache(maxsize=4096)  # a table has a few dozen column names, repeated on every line (bench G3 profile)
def column_key(name: str) -> str:
    """The form in which column names are matched: "合同编号 ", "ｓｙｎｃ_status" find their column."""
    return (normalize_text(name) or "").casefold()
