"""Consistency branches that would have caught lost work (issue 8, defect 11). Read-only SQL.

transform cannot read ingest's schema, so "accepted by ingest but absent here" is checked against what
transform itself took from Kafka: `line_receipts` (the newest version consumed per line, written by the lines
consumer before it filters anything) against `hetong_original`, plus the lines events it dead-lettered, which
ingest accepted and transform gave up on. Loss before Kafka is the local/cloud reconciliation's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

LINES_CONSUMER = "transform-lines"  # the consumer group, which is also its inbox name


async def reports_not_applied(pool: asyncpg.Pool, sample: int) -> list[dict[str, Any]]:
    """A stored report newer than what a live line it names holds for that process."""
    rows = await pool.fetch(
        """SELECT r.contract_no, p.product_id, r.process, r.version FROM progress_reports r
           JOIN products p ON p.contract_no = r.contract_no AND (r.product_id = '' OR p.product_id = r.product_id)
           LEFT JOIN product_processes pp ON pp.contract_no = p.contract_no AND pp.product_id = p.product_id
             AND pp.process = r.process
           WHERE coalesce(pp.report_received_at, pp.reported_at) IS NULL
              OR coalesce(pp.report_received_at, pp.reported_at) < r.received_at
           ORDER BY 1, 2, 3 LIMIT $1""",
        sample,
    )
    return [
        {
            "合同编号": r[0],
            "产品ID": r[1],
            "process": r[2],
            "version": r[3],
            "issue_type": "汇报已存储但未应用到产品",
        }
        for r in rows
    ]


async def reports_missing_from_feed(pool: asyncpg.Pool, sample: int) -> list[dict[str, Any]]:
    """A line holds a report, yet no feed item for the line is as recent (within what the feed still keeps).

    Items name the newest update_time among the reports they announce, so `updated_at >= reported_at` holds
    for every report an item announced; an item recorded after the report was received (a restored line's,
    named after the upload) carries it too, since items are full state."""
    rows = await pool.fetch(
        """SELECT pp.contract_no, pp.product_id, pp.process FROM product_processes pp
           WHERE pp.reported_at IS NOT NULL
             AND coalesce(pp.report_received_at, pp.reported_at) >= (SELECT min(recorded_at) FROM change_feed)
             AND NOT EXISTS (SELECT 1 FROM change_feed f WHERE f.contract_no = pp.contract_no
                             AND f.product_id = pp.product_id
                             AND (f.updated_at >= pp.reported_at OR f.recorded_at >= pp.report_received_at))
           ORDER BY 1, 2, 3 LIMIT $1""",
        sample,
    )
    return [
        {"合同编号": r[0], "产品ID": r[1], "process": r[2], "issue_type": "汇报已应用但未进入变更流"}
        for r in rows
    ]


async def lines_not_materialised(pool: asyncpg.Pool, sample: int) -> list[dict[str, Any]]:
    """A line version consumed from ingest's topic that the raw copy does not hold (or holds older)."""
    rows = await pool.fetch(
        """SELECT l.contract_no, l.product_id, l.version, h.version FROM line_receipts l
           LEFT JOIN hetong_original h USING (contract_no, product_id)
           WHERE h.contract_no IS NULL OR h.version < l.version OR (h.version = l.version AND h.deleted <> l.deleted)
           ORDER BY 1, 2 LIMIT $1""",
        sample,
    )
    return [
        {
            "合同编号": r[0],
            "产品ID": r[1],
            "version": r[2],
            "held_version": r[3],
            "issue_type": "已接收但未落地",
        }
        for r in rows
    ]


async def lines_dead_lettered(pool: asyncpg.Pool) -> int:
    n = await pool.fetchval(
        "SELECT count(*) FROM inbox WHERE consumer = $1 AND outcome = 'dead'", LINES_CONSUMER
    )
    return int(n or 0)
