"""Read-side SQL for sales staff: the customer list with search (name, phone, region, quality, sync state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

    from rules.domain.search import Search


def _like(text: str) -> str:
    """Substring pattern with the user's own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search(pool: asyncpg.Pool, s: Search) -> tuple[int, list[dict[str, Any]]]:
    rows = await pool.fetch(
        """SELECT id, code, erp_customer_id, company_name, real_name, phone, address, data_quality_score,
                  erp_sync_status, local_updated_at, count(*) OVER () AS total
           FROM customers_unified
           WHERE ($1::text IS NULL OR company_name ILIKE $1 OR real_name ILIKE $1)
             AND ($2::text IS NULL OR phone LIKE $2 || '%')
             AND ($3::text IS NULL OR address ILIKE $3)
             AND ($4::int IS NULL OR data_quality_score >= $4)
             AND ($5::int IS NULL OR data_quality_score <= $5)
             AND ($6::text IS NULL OR erp_sync_status = $6)
           ORDER BY data_quality_score DESC, id
           LIMIT $7 OFFSET $8""",
        _like(s.name) if s.name else None,
        s.phone,
        _like(s.region) if s.region else None,
        s.min_quality,
        s.max_quality,
        s.status,
        s.limit,
        s.offset,
    )
    total = int(rows[0]["total"]) if rows else 0
    keys = ("id", "code", "erp_customer_id", "company_name", "real_name", "phone", "address")
    return total, [
        {k: r[k] for k in keys}
        | {"data_quality_score": r["data_quality_score"], "erp_sync_status": r["erp_sync_status"]}
        | {"local_updated_at": r["local_updated_at"].isoformat() if r["local_updated_at"] else None}
        for r in rows
    ]
