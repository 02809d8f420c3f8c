"""Customer candidates (companies contracts name as 甲方) and operators' SQL re-sync requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.domain.record import ResyncRequest

if TYPE_CHECKING:
    import asyncpg

    from rules.domain.record import ContractLink


class PostgresCandidateRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def upsert(self, names: dict[str, str]) -> None:
        await self._conn.execute(
            """INSERT INTO customer_candidates (name_key, company_name)
               SELECT k, n FROM unnest($1::text[], $2::text[]) AS t(k, n)
               ON CONFLICT (name_key) DO UPDATE SET last_seen = now()""",
            list(names),
            list(names.values()),
        )

    async def link(self, links: list[ContractLink]) -> None:
        """Newer versions of a line move it to the company its 甲方 now names."""
        await self._conn.executemany(
            """INSERT INTO candidate_contracts AS c (name_key, contract_no, product_id, version) VALUES ($1, $2, $3, $4)
               ON CONFLICT (contract_no, product_id) DO UPDATE SET name_key = excluded.name_key,
                 version = excluded.version WHERE c.version < excluded.version""",
            [(x.name_key, x.contract_no, x.product_id, x.version) for x in links],
        )


class PostgresResyncRequests:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def take_next(self) -> ResyncRequest | None:
        row = await self._conn.fetchrow(
            "DELETE FROM resync_requests WHERE id = (SELECT id FROM resync_requests ORDER BY id"
            " LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING customer_id, requested_by"
        )
        return ResyncRequest(row["customer_id"], row["requested_by"]) if row is not None else None
