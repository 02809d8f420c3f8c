"""Read-side SQL for the mini-program and operators: contract list and detail, consistency report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from transform.adapters import lost_work

if TYPE_CHECKING:
    import asyncpg


@dataclass(frozen=True, slots=True)
class ContractFilter:
    party_a: str | None = None
    status: str | None = None
    signed_from: date | None = None
    signed_to: date | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0
    # "My queue": only contracts with a line whose current process is one of these (None: no filter).
    processes: list[str] | None = None


def _like(text: str | None) -> str | None:
    if text is None:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_contracts(conn: asyncpg.Pool, f: ContractFilter) -> tuple[int, list[dict[str, Any]]]:
    rows = await conn.fetch(
        """
        SELECT c.contract_no, min(c.party_a) AS party_a, min(c.contract_status) AS contract_status,
               min(c.signed_date) AS signed_date, count(*) AS lines,
               round(avg(p.progress_percentage), 1) AS progress_percentage, max(c.updated_at) AS updated_at,
               count(*) OVER () AS total
        FROM contracts c LEFT JOIN products p USING (contract_no, product_id)
        WHERE ($1::text IS NULL OR c.party_a = $1) AND ($2::text IS NULL OR c.contract_status = $2)
          AND ($3::date IS NULL OR c.signed_date >= $3) AND ($4::date IS NULL OR c.signed_date <= $4)
          AND ($5::text IS NULL OR c.contract_no ILIKE $5 OR c.party_a ILIKE $5 OR c.product_name ILIKE $5)
          AND ($8::text[] IS NULL OR c.contract_no IN (
               SELECT q.contract_no FROM products q WHERE NOT q.finished AND q.current_process = any($8::text[])))
        GROUP BY c.contract_no ORDER BY max(c.updated_at) DESC, c.contract_no LIMIT $6 OFFSET $7
        """,
        f.party_a,
        f.status,
        f.signed_from,
        f.signed_to,
        _like(f.text),
        f.limit,
        f.offset,
        f.processes,
    )
    total = int(rows[0]["total"]) if rows else 0
    return total, [{k: v for k, v in dict(r).items() if k != "total"} for r in rows]


async def contract_detail(conn: asyncpg.Pool, contract_no: str) -> list[dict[str, Any]]:
    """One entry per line, each with its processes in route order; empty when the contract is unknown."""
    rows = await conn.fetch(
        """
        SELECT c.product_id, c.version, c.party_a, c.party_b, c.product_name, c.contract_status, c.fields,
               c.issues, c.unknown_statuses, c.extra_columns, p.product_type, p.progress_percentage,
               p.current_process, p.finished, p.updated_at, p.updated_by,
               coalesce((SELECT jsonb_agg(jsonb_build_object('process', pp.process, 'seq', pp.seq,
                   'uploaded_status', pp.uploaded_status, 'reported_status', pp.reported_status,
                   'reported_by', pp.reported_by, 'reported_at', pp.reported_at,
                   'reporter_flag', pp.reporter_flag) ORDER BY pp.seq, pp.process)
                 FROM product_processes pp WHERE pp.contract_no = c.contract_no AND pp.product_id = c.product_id),
                 '[]') AS processes
        FROM contracts c LEFT JOIN products p USING (contract_no, product_id)
        WHERE c.contract_no = $1 ORDER BY c.product_id
        """,
        contract_no,
    )
    return [dict(r) for r in rows]


async def _lost_work(conn: asyncpg.Pool, sample: int) -> dict[str, Any]:
    return {
        "reports_not_applied": await lost_work.reports_not_applied(conn, sample),
        "reports_missing_from_feed": await lost_work.reports_missing_from_feed(conn, sample),
        "lines_not_materialised": await lost_work.lines_not_materialised(conn, sample),
        "lines_dead_lettered": await lost_work.lines_dead_lettered(conn),
    }


async def consistency(conn: asyncpg.Pool, sample: int = 100) -> dict[str, Any]:
    """Seed 000's sp_CheckDataConsistency, for this schema: what is missing where, and counts per state."""
    missing = await conn.fetch(
        """SELECT o.contract_no, o.product_id FROM hetong_original o
           LEFT JOIN contracts c USING (contract_no, product_id) WHERE c.contract_no IS NULL AND NOT o.deleted
           ORDER BY 1, 2 LIMIT $1""",
        sample,
    )
    no_progress = await conn.fetch(
        """SELECT c.contract_no, c.product_id FROM contracts c LEFT JOIN products p USING (contract_no, product_id)
           WHERE p.contract_no IS NULL OR p.current_process IS NULL AND NOT p.finished
           ORDER BY 1, 2 LIMIT $1""",
        sample,
    )
    counts = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM hetong_original WHERE NOT deleted) AS raw_lines,
                  (SELECT count(*) FROM hetong_original WHERE deleted) AS deleted_lines, (SELECT count(*) FROM contracts) AS contracts,
                  (SELECT count(*) FROM products) AS products,
                  (SELECT count(*) FROM contracts WHERE issues <> '[]') AS lines_with_issues,
                  (SELECT count(*) FROM contracts WHERE unknown_statuses <> '{}') AS lines_with_unknown_statuses"""
    )
    states = await conn.fetch(
        "SELECT coalesce(contract_status, '(none)') AS state, count(*) AS n FROM contracts GROUP BY 1 ORDER BY 1"
    )
    return {
        **await _lost_work(conn, sample),
        "raw_missing_from_standard": [
            {"合同编号": r[0], "产品ID": r[1], "issue_type": "原始表存在，标准表不存在"} for r in missing
        ],
        "products_without_progress": [
            {"合同编号": r[0], "产品ID": r[1], "issue_type": "进度数据不一致"} for r in no_progress
        ],
        "counts": dict(counts or {}),
        "lines_by_contract_status": {r["state"]: r["n"] for r in states},
    }
