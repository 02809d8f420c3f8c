"""One lock per contract, shared by the lines path and the progress path (issue 8, defect 1).

Both paths read a line's process states and the stored reports, then write the merged result. Without a
common lock a report committed between the lines path's read and its write is overwritten. The unit is the
contract, not the line: a report may name every line of a contract (no 产品ID) and may arrive before its line
exists, so the contract is the smallest key both sides know. Locks are taken in one statement, in ascending
key order, so two transactions locking overlapping sets never deadlock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

_NAMESPACE = b"transform.contract\x1f"


def contract_lock_key(contract_no: str) -> int:
    """A stable signed 64-bit advisory-lock key (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(_NAMESPACE + contract_no.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_contracts(conn: asyncpg.Connection, contract_nos: Iterable[str]) -> None:
    """Held until the transaction ends. unnest keeps the array's order: keys are locked smallest first."""
    keys = sorted({contract_lock_key(c) for c in contract_nos})
    if keys:
        await conn.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k", keys)


# One key for the whole process catalogue (adapters.catalog_repository takes it exclusively).
CATALOG_LOCK_KEY = int.from_bytes(
    hashlib.blake2b(b"transform.catalog", digest_size=8).digest(), "big", signed=True
)


async def lock_catalog_shared(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", CATALOG_LOCK_KEY)


async def lock_catalog(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1)", CATALOG_LOCK_KEY)


async def has_written(conn: asyncpg.Connection) -> bool:
    """A transaction gets its id at its first write, not at BEGIN (service_layer.ordering)."""
    return bool(await conn.fetchval("SELECT pg_current_xact_id_if_assigned() IS NOT NULL"))


class PostgresLocks:
    """transform.service_layer.ports.Locks on one connection (the consumer's before_inbox hook builds one too)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def contracts(self, contract_nos: Iterable[str]) -> None:
        await lock_contracts(self._conn, contract_nos)

    async def catalog(self) -> None:
        await lock_catalog(self._conn)

    async def catalog_shared(self) -> None:
        await lock_catalog_shared(self._conn)

    async def has_written(self) -> bool:
        return await has_written(self._conn)
