"""SQL for the ingest schema. Hand-written, parameterised; returns domain objects, never Records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import orjson

from ingest.domain.clients import Client

if TYPE_CHECKING:
    import asyncpg

    from ingest.domain.deletions import Deletion
    from ingest.domain.lines import Line


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class ProgressRow:
    version: int
    update_time: datetime


async def get_client(conn: asyncpg.Connection | asyncpg.Pool, client_id: str) -> Client | None:
    r = await conn.fetchrow("SELECT * FROM clients WHERE client_id = $1", client_id)
    if r is None:
        return None
    return Client(
        r["client_id"],
        r["secret_hash"],
        frozenset(r["scopes"]),
        r["disabled"],
        r["rate_per_minute"],
        r["rate_per_day"],
        r["token_version"],
    )


async def revocations(pool: asyncpg.Pool) -> list[dict[str, object]]:
    """Clients whose older tokens are refused: disabled ones, and those whose secret changed (version > 1)."""
    rows = await pool.fetch(
        "SELECT client_id, token_version, disabled FROM clients"
        " WHERE disabled OR token_version > 1 ORDER BY client_id"
    )
    return [
        {"client_id": r["client_id"], "min_version": r["token_version"], "disabled": r["disabled"]}
        for r in rows
    ]


async def add_daily_rows(
    conn: asyncpg.Connection, client_id: str, day_start: datetime, rows: int
) -> tuple[bool, int]:
    """Count `rows` against the client's `rows_per_day` for the day, unless that would pass it.

    Runs in the batch's transaction: a rolled-back batch counts nothing, and the counter's row lock orders one
    client's concurrent batches so two of them cannot both fit into the last rows. Returns (counted, limit).
    """
    r = await conn.fetchrow(
        "WITH c AS (SELECT rows_per_day AS lim FROM clients WHERE client_id = $1),"
        " up AS (INSERT INTO rate_counters AS r (bucket, window_start, hits)"
        "  SELECT 'rows:' || $1, $2, $3 FROM c WHERE $3 <= c.lim"
        "  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + EXCLUDED.hits"
        "  WHERE r.hits + EXCLUDED.hits <= (SELECT lim FROM c) RETURNING hits)"
        " SELECT (SELECT lim FROM c) AS lim, EXISTS (SELECT 1 FROM up) AS counted",
        client_id,
        day_start,
        rows,
    )
    return bool(r["counted"]), int(r["lim"] or 0)


async def lock_idempotency_key(conn: asyncpg.Connection, client_id: str, key: str) -> None:
    """Serialise concurrent requests with one key: the second waits, then sees the first's answer."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{client_id}\x1f{key}")


async def stored_response(conn: asyncpg.Connection, client_id: str, key: str) -> StoredResponse | None:
    r = await conn.fetchrow(
        "SELECT request_hash, status, response FROM idempotency WHERE client_id = $1 AND key = $2",
        client_id,
        key,
    )
    return StoredResponse(r["request_hash"], r["status"], bytes(r["response"])) if r else None


async def store_response(
    conn: asyncpg.Connection, client_id: str, key: str, request_hash: str, status: int, body: bytes
) -> None:
    await conn.execute(
        "INSERT INTO idempotency (client_id, key, request_hash, status, response) VALUES ($1,$2,$3,$4,$5)",
        client_id,
        key,
        request_hash,
        status,
        body,
    )


async def existing_hashes(conn: asyncpg.Connection, lines: list[Line]) -> dict[tuple[str, str], str]:
    rows = await conn.fetch(
        "SELECT l.contract_no, l.product_id, l.content_hash FROM contract_lines l"
        " JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON l.contract_no = k.c AND l.product_id = k.p",
        [x.contract_no for x in lines],
        [x.product_id for x in lines],
    )
    return {(r["contract_no"], r["product_id"]): r["content_hash"] for r in rows}


async def upsert_lines(
    conn: asyncpg.Connection, lines: list[Line], overwrite: bool, source: str, client_id: str
) -> dict[tuple[str, str], int]:
    """Insert new lines; replace changed ones only when `overwrite`; a deleted line always comes back.

    Returns the new versions.
    """
    rows = await conn.fetch(
        """
        INSERT INTO contract_lines AS l (contract_no, product_id, content_hash, version, row, source, client_id)
        SELECT c, p, h, 1, r::jsonb, $5, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(c, p, h, r)
        ON CONFLICT (contract_no, product_id) DO UPDATE
          SET content_hash = excluded.content_hash, version = l.version + 1, row = excluded.row,
              source = excluded.source, client_id = excluded.client_id, received_at = now(), deleted = false
          WHERE l.deleted OR ($7 AND l.content_hash <> excluded.content_hash)
        RETURNING contract_no, product_id, version
        """,
        [x.contract_no for x in lines],
        [x.product_id for x in lines],
        [x.content_hash for x in lines],
        [orjson.dumps(x.row).decode() for x in lines],
        source,
        client_id,
        overwrite,
    )
    return {(r["contract_no"], r["product_id"]): r["version"] for r in rows}


async def delete_lines(
    conn: asyncpg.Connection, deletions: list[Deletion], source: str, client_id: str
) -> tuple[dict[tuple[str, str], int], set[tuple[str, str]]]:
    """Mark live lines deleted with the next version. Returns (new versions, lines that were already deleted).

    The row lock orders a delete against a concurrent upload or delete of the same line: the second one
    re-reads the row, so two deletes never both count and versions only grow.
    """
    keys = [d.contract_no for d in deletions], [d.product_id for d in deletions]
    rows = await conn.fetch(
        """
        UPDATE contract_lines AS l SET deleted = true, version = l.version + 1, source = $3, client_id = $4,
               received_at = now()
        FROM unnest($1::text[], $2::text[]) AS k(c, p)
        WHERE l.contract_no = k.c AND l.product_id = k.p AND NOT l.deleted
        RETURNING l.contract_no, l.product_id, l.version
        """,
        *keys,
        source,
        client_id,
    )
    gone = await conn.fetch(
        "SELECT l.contract_no, l.product_id FROM contract_lines l"
        " JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON l.contract_no = k.c AND l.product_id = k.p"
        " WHERE l.deleted",
        *keys,
    )
    versions = {(r["contract_no"], r["product_id"]): r["version"] for r in rows}
    return versions, {(r["contract_no"], r["product_id"]) for r in gone} - versions.keys()


async def contract_processes(conn: asyncpg.Connection, contract_no: str) -> tuple[set[str], set[str]] | None:
    """(product ids, column names) of a contract's lines, or None if it was never received."""
    rows = await conn.fetch(
        "SELECT product_id, array(SELECT jsonb_object_keys(row)) AS cols FROM contract_lines WHERE contract_no = $1",
        contract_no,
    )
    if not rows:
        return None
    return {r["product_id"] for r in rows}, {c for r in rows for c in r["cols"]}


async def lock_progress(
    conn: asyncpg.Connection, contract_no: str, product_id: str, process: str
) -> ProgressRow | None:
    r = await conn.fetchrow(
        "SELECT version, update_time FROM progress_state WHERE contract_no = $1 AND product_id = $2"
        " AND process = $3 FOR UPDATE",
        contract_no,
        product_id,
        process,
    )
    return ProgressRow(r["version"], r["update_time"]) if r else None


async def save_progress(
    conn: asyncpg.Connection,
    contract_no: str,
    product_id: str,
    process: str,
    status: str,
    updated_by: str,
    update_time: datetime,
) -> int:
    return int(
        await conn.fetchval(
            """
        INSERT INTO progress_state AS s (contract_no, product_id, process, status, version, updated_by, update_time)
        VALUES ($1, $2, $3, $4, 1, $5, $6)
        ON CONFLICT (contract_no, product_id, process) DO UPDATE SET status = excluded.status,
          version = s.version + 1, updated_by = excluded.updated_by, update_time = excluded.update_time
        RETURNING version
        """,
            contract_no,
            product_id,
            process,
            status,
            updated_by,
            update_time,
        )
    )
