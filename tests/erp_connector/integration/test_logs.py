"""erp_api_logs (masked, no secrets), retention pruning, the status document."""

from __future__ import annotations

import orjson
import pytest

from common.metrics import Metrics
from common.retention import Pruner
from erp_connector.adapters.api_log import ApiLogWriter
from erp_connector.adapters.erp_transport import CallRecord
from erp_connector.adapters.retention import retention_policies
from erp_connector.bootstrap import units_of_work
from erp_connector.config import ErpRetention
from erp_connector.service_layer.scheduler import SyncScheduler
from erp_connector.service_layer.status import sync_status
from tests.erp_connector.harness import (
    PASSWORD,
    company,
    control_for,
    enqueue,
    erp,
    erp_schema,
    metrics,
    pull_service,
    sync_request,
)

pytestmark = pytest.mark.integration


async def test_every_call_is_logged_with_phones_masked_and_no_secrets() -> None:
    async with erp_schema() as (_, pool), erp() as e:
        writer = ApiLogWriter(pool)
        await e.client.create_customer({**company(1), "sort1": "101", "phone": "0754-88889999"}, 1)
        for call in e.calls:
            writer.add(call)
        writer.add(CallRecord("customer_list", "/x", "circuit_open", 0.0))  # nothing was sent: not logged
        await writer.flush()
        rows = await pool.fetch(
            "SELECT operation, outcome, request_summary, response_summary FROM erp_api_logs ORDER BY id"
        )
        assert [r["operation"] for r in rows] == [
            "login",
            "customer_allocate",
            "customer_save",
            "customer_detail",
        ]
        dump = " ".join(r["request_summary"] + r["response_summary"] for r in rows)
        assert PASSWORD not in dump and '"session"' not in dump
        assert "13900000001" not in dump and "139****0001" in dump and "0754-****9999" in dump
        save = orjson.loads(rows[2]["request_summary"])
        assert save["cmdkey"] == "__sys_dosave" and save["datas"]["name"] == "测试0001号彩印有限公司"


async def test_retention_prunes_old_rows_only() -> None:
    async with erp_schema() as (_, pool):
        await pool.execute(
            "INSERT INTO erp_sync_logs (sync_direction, sync_type, sync_result, synced_at) VALUES"
            " ('erp_to_local', 'pull', 'success', now() - interval '31 days'),"
            " ('erp_to_local', 'pull', 'success', now() - interval '29 days')"
        )
        await pool.execute(
            "INSERT INTO erp_api_logs (endpoint, operation, outcome, duration_ms, at) VALUES"
            " ('/a', 'login', 'ok', 1, now() - interval '91 days'), ('/a', 'login', 'ok', 1, now() - interval '31 days')"
        )
        await pool.execute(
            "INSERT INTO erp_push_requests (customer_id, version, event_id, action, code, fields, command,"
            " received_at, outcome) VALUES"
            " ('c1', 1, gen_random_uuid(), 'create', 'KH-1', '{}', '', now() - interval '91 days', 'synced'),"
            " ('c1', 2, gen_random_uuid(), 'create', 'KH-1', '{}', '', now() - interval '91 days', NULL)"
        )
        policies = retention_policies(ErpRetention())
        pruned = await Pruner(pool, policies, Metrics("e"), interval_s=1, batch_size=100).prune_once()
        assert pruned == {
            "erp_sync_logs": 1,
            "erp_api_logs": 1,
            "erp_push_attempts": 0,
            "erp_push_requests": 1,
        }
        # a request still waiting for its outcome stays, however old
        assert await pool.fetchval("SELECT array_agg(version) FROM erp_push_requests") == [2]
        assert await pool.fetchval("SELECT count(*) FROM erp_sync_logs") == 1
        assert await pool.fetchval("SELECT count(*) FROM erp_api_logs") == 1


async def test_status_reports_last_runs_backlog_and_state() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        control = await control_for(pool, e.client, m)
        await pull_service(schema, pool, e, control, m).run()
        await enqueue(
            pool, sync_request("s-1", "KH-S00001", company(1)), sync_request("s-2", "KH-S00002", company(2))
        )
        await pool.execute(
            "INSERT INTO erp_sync_logs (sync_direction, sync_type, sync_result) VALUES ('local_to_erp', 'push', 'failed')"
        )
        uow = units_of_work(pool, schema).begin
        status = await sync_status(uow, control, e.client, SyncScheduler([], lambda: True), 4.0)
        assert status["state"] == "running" and status["breaker"]["state"] == "closed"
        assert status["last_pull"]["result"] == "success" and status["last_pull"]["seen"] == 200
        assert status["last_push"]["result"] == "failed"
        assert status["backlog"]["queued"] == 2 and status["backlog"]["oldest_queued_at"]
        assert status["failures_last_hour"] == 1
        assert status["customers"] == {"visible": 200, "not_visible": 0}
