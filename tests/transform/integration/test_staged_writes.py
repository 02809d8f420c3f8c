"""Large batches are written through COPY into a staging table (staging.STAGE_MIN_ROWS): same rows as unnest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from common.events.ingest import HetongRowChanged
from tests.support.generate import contract_rows
from tests.support.schemas import scratch_schema
from tests.support.stack import ROOT
from transform.adapters import lines_repository, staging
from transform.domain.mapping import DEFAULT_MAPPING, standardize
from transform.domain.routes import DEFAULT_CATALOG
from transform.service_layer.configuration import Configuration
from transform.service_layer.lines import LineChange, line_write
from transform.service_layer.ports import LineWrite

pytestmark = pytest.mark.integration

MIGRATIONS = ROOT / "services" / "transform" / "migrations"
TABLES = {
    "hetong_original": "contract_no, product_id, version, row, content_hash, source, client_id, received_at, deleted",
    "contracts": "contract_no, product_id, version, party_a, party_b, product_name, contract_status, fields,"
    " extra_columns, issues, unknown_statuses, signed_date",
    "products": "contract_no, product_id, product_type, product_name, progress_percentage, current_process, finished",
    "product_processes": "contract_no, product_id, process, seq, uploaded_status, uploaded_at, reported_status,"
    " reported_at, reported_by, uploaded_by, report_received_at",
}


def _writes(n: int, version: int) -> list[LineWrite]:
    config = Configuration(DEFAULT_MAPPING, DEFAULT_CATALOG)
    at = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    out = []
    for row in contract_rows(n, seed=4, prefix="STG-"):
        event = HetongRowChanged(
            contract_no=str(row["合同编号"]),
            product_id=str(row["产品ID"]),
            version=version,
            content_hash=f"h{version}",
            row=row,
            source="test",
            client_id="test",
            received_at=at,
        )
        change = LineChange(event, "test")
        out.append(
            line_write(
                change, standardize(row, DEFAULT_MAPPING, DEFAULT_CATALOG), {}, [], config, restored=False
            )
        )
    return out


async def _save_twice(pool: asyncpg.Pool, n: int) -> dict[str, list[Any]]:
    """Insert n lines, then update them (the ON CONFLICT branch), in one transaction; return every table."""
    async with pool.acquire() as conn, conn.transaction():
        await lines_repository.save_lines(conn, _writes(n, 1))
        await lines_repository.save_lines(conn, _writes(n, 2))
        await lines_repository.record_receipts(conn, [w.event for w in _writes(n, 2)])
        stages = await conn.fetch(
            "SELECT relname FROM pg_class WHERE relname LIKE 'stage\\_%' AND relnamespace = pg_my_temp_schema()"
        )
        for s in stages:  # every staging table was emptied by the statement that read it
            assert await conn.fetchval(f'SELECT count(*) FROM pg_temp."{s["relname"]}"') == 0
        out = {
            t: [tuple(r) for r in await conn.fetch(f"SELECT {c} FROM {t} ORDER BY 1, 2, 3")]
            for t, c in TABLES.items()
        }
        out["line_receipts"] = [
            tuple(r)
            for r in await conn.fetch(
                "SELECT contract_no, product_id, version, deleted FROM line_receipts ORDER BY 1, 2"
            )
        ]
        out["stages"] = [s["relname"] for s in stages]
    return out


async def test_a_large_batch_writes_through_staging_exactly_what_unnest_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = least = staging.STAGE_MIN_ROWS
    n += 10
    async with scratch_schema(MIGRATIONS, prefix="stg") as (_, pool):
        staged = await _save_twice(pool, n)
    monkeypatch.setattr(staging, "STAGE_MIN_ROWS", 10**9)
    async with scratch_schema(MIGRATIONS, prefix="stg") as (_, pool):
        unnested = await _save_twice(pool, n)
    assert (
        len(staged.pop("stages")) == 5
    )  # raw, contracts, products, processes, receipts: all went through COPY
    assert unnested.pop("stages") == []
    assert staged["products"] and len(staged["product_processes"]) >= least
    assert staged == unnested
    assert {r[2] for r in staged["contracts"]} == {2}


async def test_the_staged_form_reads_the_same_columns_as_the_unnest_form() -> None:
    stage = staging.staged(
        "INSERT INTO x AS t0 (a, b) SELECT a, b::jsonb FROM unnest($1::text[], $2::text[]) AS t(a, b) ON CONFLICT DO NOTHING"
    )
    assert stage.columns == ("a", "b")
    assert "(a text, b text) ON COMMIT DELETE ROWS" in stage.create
    assert stage.sql.startswith(
        f"WITH staged AS (DELETE FROM pg_temp.{stage.table} RETURNING *) INSERT INTO x"
    )
    assert "FROM staged AS t(a, b) ON CONFLICT DO NOTHING" in stage.sql
    with pytest.raises(ValueError, match="no unnest"):
        staging.staged("INSERT INTO x VALUES ($1)")
