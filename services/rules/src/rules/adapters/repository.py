"""SQL for the rules schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg


async def upsert_candidates(conn: asyncpg.Connection, names: dict[str, str]) -> None:
    await conn.execute(
        """INSERT INTO customer_candidates (name_key, company_name)
           SELECT k, n FROM unnest($1::text[], $2::text[]) AS t(k, n)
           ON CONFLICT (name_key) DO UPDATE SET last_seen = now()""",
        list(names),
        list(names.values()),
    )


async def link(conn: asyncpg.Connection, links: list[tuple[str, str, str, int]]) -> None:
    """Newer versions of a line move it to the company its 甲方 now names."""
    await conn.executemany(
        """INSERT INTO candidate_contracts AS c (name_key, contract_no, product_id, version) VALUES ($1, $2, $3, $4)
           ON CONFLICT (contract_no, product_id) DO UPDATE SET name_key = excluded.name_key,
             version = excluded.version WHERE c.version < excluded.version""",
        links,
    )


async def candidates(conn: asyncpg.Pool, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT c.company_name, c.first_seen, c.last_seen, count(l.*) AS contract_lines,
                  array_agg(DISTINCT l.contract_no) FILTER (WHERE l.contract_no IS NOT NULL) AS contracts
           FROM customer_candidates c LEFT JOIN candidate_contracts l USING (name_key)
           GROUP BY c.name_key ORDER BY c.company_name LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    return [
        {
            "company_name": r["company_name"],
            "contract_lines": r["contract_lines"],
            "contracts": r["contracts"] or [],
            "first_seen": r["first_seen"].isoformat(),
            "last_seen": r["last_seen"].isoformat(),
        }
        for r in rows
    ]
