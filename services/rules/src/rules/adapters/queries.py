"""Read-side SQL for operators: pending sync, statistics, one customer, its history and decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from rules.adapters.customer_search import search
from rules.adapters.customers import customer_of
from rules.adapters.rulebook_store import audit_trail

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

    from rules.domain.customer import Customer
    from rules.domain.search import Search


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def pending(pool: asyncpg.Pool, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """The seed's v_pending_sync_customers, mandatory first, then by quality."""
    rows = await pool.fetch(
        """SELECT id, code, erp_customer_id, company_name, real_name, phone, data_quality_score, erp_sync_status,
                  erp_sync_rule, erp_sync_reason, erp_sync_error, sync_priority, recommended_action,
                  local_updated_at, erp_last_pushed, count(*) OVER () AS total
           FROM v_pending_sync_customers
           ORDER BY CASE sync_priority WHEN 'mandatory' THEN 1 WHEN 'high_quality' THEN 2
                      WHEN 'medium_quality' THEN 3 ELSE 4 END, data_quality_score DESC, id
           LIMIT $1 OFFSET $2""",
        limit,
        offset,
    )
    total = rows[0]["total"] if rows else 0
    return total, [
        {
            "id": r["id"],
            "code": r["code"],
            "erp_customer_id": r["erp_customer_id"],
            "company_name": r["company_name"],
            "real_name": r["real_name"],
            "phone": r["phone"],
            "data_quality_score": r["data_quality_score"],
            "erp_sync_status": r["erp_sync_status"],
            "sync_priority": r["sync_priority"],
            "recommended_action": r["recommended_action"],
            "rule": r["erp_sync_rule"],
            "reason": r["erp_sync_reason"],
            "error": r["erp_sync_error"],
            "local_updated_at": _iso(r["local_updated_at"]),
            "erp_last_pushed": _iso(r["erp_last_pushed"]),
        }
        for r in rows
    ]


async def statistics(pool: asyncpg.Pool, days: int) -> tuple[list[dict[str, Any]], int]:
    """Counts by day (UTC), direction and result for today and the `days - 1` UTC days before; failures in the
    last hour. The counts are the seed's view `v_sync_statistics`, read as it is: one definition, one answer."""
    rows = await pool.fetch(
        """SELECT sync_date AS day, sync_direction, sync_result, count AS n FROM v_sync_statistics
           WHERE sync_date > (now() AT TIME ZONE 'UTC')::date - $1::int
           ORDER BY 1 DESC, 2, 3""",
        days,
    )
    failures = await pool.fetchval(
        "SELECT count(*) FROM sync_log WHERE sync_result = 'failed' AND synced_at >= now() - interval '1 hour'"
    )
    out = [
        {
            "date": r["day"].isoformat(),
            "direction": r["sync_direction"],
            "result": r["sync_result"],
            "count": r["n"],
        }
        for r in rows
    ]
    return out, int(failures)


async def customer(pool: asyncpg.Pool, customer_id: str) -> tuple[Customer, dict[str, Any]] | None:
    row = await pool.fetchrow(
        """SELECT id, code, erp_customer_id, wechat_id, provenance, contract_linked, capture_version,
                  erp_sync_status, sync_version, push_result_version, requested_fields, name_key,
                  data_quality_score, data_completeness, quality_factors, quality_issues, erp_sync_action,
                  erp_sync_rule, erp_sync_reason, erp_sync_confidence, erp_sync_error, erp_last_pulled,
                  erp_last_pushed, local_updated_at, erp_updated_at, created_at, updated_at
           FROM customers_unified WHERE id = $1""",
        customer_id,
    )
    if row is None:
        return None
    extra = {
        "name_key": row["name_key"],
        "quality": {
            "score": row["data_quality_score"],
            "completeness": float(row["data_completeness"]),
            "factors": orjson.loads(row["quality_factors"]),
            "issues": orjson.loads(row["quality_issues"]),
        },
        "sync": {
            "status": row["erp_sync_status"],
            "action": row["erp_sync_action"],
            "rule": row["erp_sync_rule"],
            "reason": row["erp_sync_reason"],
            "confidence": float(row["erp_sync_confidence"])
            if row["erp_sync_confidence"] is not None
            else None,
            "error": row["erp_sync_error"],
            "version": row["sync_version"],
            "result_version": row["push_result_version"],
            "requested_fields": orjson.loads(row["requested_fields"]),
            "erp_last_pulled": _iso(row["erp_last_pulled"]),
            "erp_last_pushed": _iso(row["erp_last_pushed"]),
        },
        "local_updated_at": _iso(row["local_updated_at"]),
        "erp_updated_at": _iso(row["erp_updated_at"]),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    return customer_of(row), extra


async def history(
    pool: asyncpg.Pool, customer_id: str, limit: int, before: int | None
) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT id, field_name, old_value, new_value, incoming_value, value_source, change_type, change_reason,
                  trigger, event_id, changed_by, changed_at
           FROM field_change_history WHERE customer_id = $1 AND ($3::bigint IS NULL OR id < $3)
           ORDER BY id DESC LIMIT $2""",
        customer_id,
        limit,
        before,
    )
    return [
        {
            "id": r["id"],
            "field": r["field_name"],
            "old": orjson.loads(r["old_value"]),
            "new": orjson.loads(r["new_value"]),
            "incoming": orjson.loads(r["incoming_value"]),
            "value_source": r["value_source"],
            "change_type": r["change_type"],
            "reason": r["change_reason"],
            "trigger": r["trigger"],
            "event_id": str(r["event_id"]) if r["event_id"] else None,
            "changed_by": r["changed_by"],
            "changed_at": r["changed_at"].isoformat(),
        }
        for r in rows
    ]


async def decisions(pool: asyncpg.Pool, customer_id: str, limit: int) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT rule_name, action, reason, confidence, gates, quality_score, emitted, sync_version, trigger,
                  rulebook_version, decided_at
           FROM sync_decisions WHERE customer_id = $1 ORDER BY id DESC LIMIT $2""",
        customer_id,
        limit,
    )
    return [
        {
            "rule": r["rule_name"],
            "action": r["action"],
            "reason": r["reason"],
            "confidence": float(r["confidence"]),
            "gates": orjson.loads(r["gates"]),
            "quality_score": r["quality_score"],
            "emitted": r["emitted"],
            "sync_version": r["sync_version"],
            "trigger": r["trigger"],
            "rulebook_version": r["rulebook_version"],
            "decided_at": r["decided_at"].isoformat(),
        }
        for r in rows
    ]


async def customer_page(conn: asyncpg.Connection, after: str, limit: int) -> list[Customer]:
    """All customers in id order, a page at a time (dry runs)."""
    rows = await conn.fetch(
        """SELECT id, code, erp_customer_id, wechat_id, provenance, contract_linked, capture_version,
                  erp_sync_status, sync_version, push_result_version, requested_fields
           FROM customers_unified WHERE id > $1 ORDER BY id LIMIT $2""",
        after,
        limit,
    )
    return [customer_of(r) for r in rows]


async def exists(pool: asyncpg.Pool, customer_id: str) -> bool:
    return bool(
        await pool.fetchval("SELECT EXISTS (SELECT 1 FROM customers_unified WHERE id = $1)", customer_id)
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


class PostgresCustomerReads:
    """The read side on the pool: one statement (or two) per answer, no unit of work."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def pending(self, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        return await pending(self._pool, limit, offset)

    async def statistics(self, days: int) -> tuple[list[dict[str, Any]], int]:
        return await statistics(self._pool, days)

    async def customer(self, customer_id: str) -> tuple[Customer, dict[str, Any]] | None:
        return await customer(self._pool, customer_id)

    async def exists(self, customer_id: str) -> bool:
        return await exists(self._pool, customer_id)

    async def history(self, customer_id: str, limit: int, before: int | None) -> list[dict[str, Any]]:
        return await history(self._pool, customer_id, limit, before)

    async def decisions(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        return await decisions(self._pool, customer_id, limit)

    async def customer_page(self, after: str, limit: int) -> list[Customer]:
        async with self._pool.acquire() as conn:
            return await customer_page(conn, after, limit)

    async def search(self, s: Search) -> tuple[int, list[dict[str, Any]]]:
        return await search(self._pool, s)

    async def candidates(self, limit: int, offset: int) -> list[dict[str, Any]]:
        return await candidates(self._pool, limit, offset)

    async def audit_trail(self, limit: int, before: int | None) -> list[dict[str, Any]]:
        return await audit_trail(self._pool, limit, before)
