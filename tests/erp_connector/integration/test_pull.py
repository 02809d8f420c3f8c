"""The pull on a real PostgreSQL against the in-process simulator: hashes, events, visibility."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson
import pytest

from common import topics
from erp_connector.domain.control import RunState
from tests.erp_connector.harness import control_for, erp, erp_schema, metrics, pull_service

pytestmark = pytest.mark.integration


async def _pulled(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT key, payload, headers FROM outbox WHERE topic = $1 ORDER BY created_at, id",
        topics.ERP_CUSTOMER_PULLED,
    )
    return [{"key": r["key"], **orjson.loads(r["payload"])} for r in rows]


async def test_first_pull_emits_everyone_and_a_second_pull_emits_nothing() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        pull = pull_service(schema, pool, e, await control_for(pool, e.client, m), m)
        first = await pull.run()
        assert (first.result, first.seen, first.new, first.pages) == ("success", 200, 200, 2)
        events = await _pulled(pool)
        assert len(events) == 200 and len({ev["event_id"] for ev in events}) == 200
        one = events[0]
        assert one["event_type"] == "ErpCustomerPulled" and one["key"] == str(one["payload"]["erp_id"])
        assert set(one["payload"]["fields"]) >= {"name", "contact_name", "mobile", "category", "sales_person"}

        second = await pull.run()
        assert (second.result, second.seen, second.new, second.changed, second.unchanged) == (
            "success",
            200,
            0,
            0,
            200,
        )
        assert len(await _pulled(pool)) == 200
        log = await pool.fetchrow(
            "SELECT sync_direction, sync_result, detail FROM erp_sync_logs ORDER BY id DESC LIMIT 1"
        )
        assert (log["sync_direction"], log["sync_result"]) == ("erp_to_local", "success")
        assert orjson.loads(log["detail"])["unchanged"] == 200


async def test_only_the_changed_customer_is_emitted_with_a_new_version() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        pull = pull_service(schema, pool, e, await control_for(pool, e.client, m), m)
        await pull.run()
        ord_ = (await e.customers())[4]["ord"]
        await e.client.update_customer(ord_, {"email": "changed@example.cn"}, 1)
        report = await pull.run()
        assert (report.changed, report.new, report.unchanged) == (1, 0, 199)
        events = await _pulled(pool)
        assert len(events) == 201
        assert (
            events[-1]["payload"]["erp_id"] == ord_
            and events[-1]["payload"]["fields"]["email"] == "changed@example.cn"
        )
        assert await pool.fetchval("SELECT version FROM erp_customer_hashes WHERE erp_id = $1", ord_) == 2


async def test_a_session_expiring_mid_scan_does_not_fail_the_pull() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        await e.sim.post("/_sim/customers", json={"count": 300})
        await e.faults(expire_after_pages=2)
        m = metrics()
        report = await pull_service(schema, pool, e, await control_for(pool, e.client, m), m).run()
        assert (report.result, report.seen, report.pages) == ("success", 500, 5)
        assert (await e.state())["logins"] == 3  # pages 1-2, 3-4, 5: renewed, continued at the same page
        assert e.outcomes("customer_list").count("session") == 2
        assert await pool.fetchval("SELECT count(*) FROM erp_customer_hashes") == 500


async def test_transient_faults_are_retried_in_place_until_the_scan_completes() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        await e.client.login()
        await e.faults(error_rate=0.3, html_error_rate=0.1, truncated_json_rate=0.1)
        m = metrics()
        report = await pull_service(schema, pool, e, await control_for(pool, e.client, m), m).run()
        assert (report.result, report.seen) == ("success", 200)
        assert report.page_retries > 0


async def test_customers_that_stop_appearing_are_flagged_after_two_scans_never_deleted() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        pull = pull_service(schema, pool, e, await control_for(pool, e.client, m), m)
        await pull.run()
        await e.faults(permission={"rollsync": "own"})  # most rows belong to other sales people now
        first_miss = await pull.run()
        visible = first_miss.seen
        assert 0 < visible < 200
        assert await pool.fetchval("SELECT count(*) FROM erp_customer_hashes WHERE NOT visible") == 0
        report = await pull.run()
        assert report.not_visible == 200 - visible
        assert await pool.fetchval("SELECT count(*) FROM erp_customer_hashes") == 200
        await e.faults(permission={"rollsync": "all"})
        await pull.run()
        assert await pool.fetchval("SELECT count(*) FROM erp_customer_hashes WHERE NOT visible") == 0


async def test_rejected_credentials_stop_the_connector_and_fail_the_pull() -> None:
    async with erp_schema() as (schema, pool), erp(password="wrong-password") as e:
        m = metrics()
        control = await control_for(pool, e.client, m)
        report = await pull_service(schema, pool, e, control, m).run()
        assert report.result == "failed" and "AuthError" in (report.error or "")
        assert control.state is RunState.STOPPED_AUTH
        assert (await e.state())["login_failures"] == {"rollsync": 1}
        stored = await pool.fetchrow(
            "SELECT stopped_auth, reason, credentials_fingerprint FROM erp_connector_state"
        )
        assert stored["stopped_auth"] and stored["reason"] == "用户名或密码错误"
        assert stored["credentials_fingerprint"].startswith("scrypt$")
        # A restart with the same credentials stays stopped and makes no login.
        again = await control_for(pool, e.client, m)
        assert again.state is RunState.STOPPED_AUTH
        report = await pull_service(schema, pool, e, again, m).run()
        assert report.result == "failed" and (await e.state())["login_failures"] == {"rollsync": 1}


async def test_only_one_replica_pulls_at_a_time() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        control = await control_for(pool, e.client, m)
        first = pull_service(schema, pool, e, control, m, page_size=100, page_pause_s=0.2)
        second = pull_service(schema, pool, e, control, m)
        a, b = await asyncio.gather(first.run(), second.run())
        assert sorted([a.result, b.result]) == ["skipped", "success"]
        assert await pool.fetchval("SELECT count(*) FROM erp_sync_logs") == 1
        assert (await second.run()).result == "success"  # the lock was released
