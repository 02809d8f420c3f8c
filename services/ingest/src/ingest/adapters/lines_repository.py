"""SQL for contract lines (`ingest.contract_lines`): one statement per batch (unnest), never one per line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import asyncpg

    from ingest.domain.deletions import Deletion
    from ingest.domain.lines import Line
    from ingest.service_layer.ports import LineKey


class PgLinesRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def existing_hashes(self, lines: list[Line]) -> dict[LineKey, str]:
        rows = await self.conn.fetch(
            "SELECT l.contract_no, l.product_id, l.content_hash FROM contract_lines l"
            " JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON l.contract_no = k.c AND l.product_id = k.p",
            [x.contract_no for x in lines],
            [x.product_id for x in lines],
        )
        return {(r["contract_no"], r["product_id"]): r["content_hash"] for r in rows}

    async def upsert(
        self, lines: list[Line], overwrite: bool, source: str, client_id: str
    ) -> dict[LineKey, int]:
        """Insert new lines; replace changed ones only when `overwrite`; a deleted line always comes back.

        Returns the new versions.
        """
        rows = await self.conn.fetch(
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

    async def delete(
        self, deletions: list[Deletion], source: str, client_id: str
    ) -> tuple[dict[LineKey, int], set[LineKey]]:
        """Mark live lines deleted with the next version. Returns (new versions, lines already deleted).

        The row lock orders a delete against a concurrent upload or delete of the same line: the second one
        re-reads the row, so two deletes never both count and versions only grow.
        """
        keys = [d.contract_no for d in deletions], [d.product_id for d in deletions]
        rows = await self.conn.fetch(
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
        gone = await self.conn.fetch(
            "SELECT l.contract_no, l.product_id FROM contract_lines l"
            " JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON l.contract_no = k.c AND l.product_id = k.p"
            " WHERE l.deleted",
            *keys,
        )
        versions = {(r["contract_no"], r["product_id"]): r["version"] for r in rows}
        return versions, {(r["contract_no"], r["product_id"]) for r in gone} - versions.keys()

    async def contract_processes(self, contract_no: str) -> tuple[set[str], set[str]] | None:
        rows = await self.conn.fetch(
            "SELECT product_id, array(SELECT jsonb_object_keys(row)) AS cols FROM contract_lines WHERE contract_no = $1",
            contract_no,
        )
        if not rows:
            return None
        return {r["product_id"] for r in rows}, {c for r in rows for c in r["cols"]}
