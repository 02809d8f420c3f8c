"""The push worker on a real PostgreSQL against the in-process simulator."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from common import topics
from erp_connector.domain.control import RunState
from erp_connector.domain.errors import CircuitOpenError
from tests.erp_connector.harness import (
    company,
    control_for,
    enqueue,
    erp,
    erp_schema,
    metrics,
    push_worker,
    sim_settings,
    sync_request,
)

pytestmark = pytest.mark.integration


async def _outbox(pool: Any, topic: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload, headers FROM outbox WHERE topic = $1 ORDER BY created_at, id", topic
    )
    return [{"value": bytes(r["payload"]), "headers": orjson.loads(r["headers"])} for r in rows]


async def _completions(pool: Any) -> list[dict[str, Any]]:
    return [
        orjson.loads(r["value"])["payload"] for r in await _outbox(pool, topics.ERP_CUSTOMER_PUSH_COMPLETED)
    ]


async def test_a_new_customer_is_created_once_read_back_and_reported() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await enqueue(pool, sync_request("c-1", "KH-000001", company(1)))
        report = await worker.run()
        assert (report.synced, report.dead, report.result) == (1, 0, "success")
        [stored] = [c for c in await e.customers() if c["khid"] == "KH-000001"]
        assert (
            stored["name"] == "测试0001号彩印有限公司" and stored["fields"]["sort1"] == "101"
        )  # create default
        [done] = await _completions(pool)
        assert (done["customer_id"], done["result"], done["erp_id"], done["version"]) == (
            "c-1",
            "synced",
            stored["ord"],
            1,
        )
        steps = [r["stage"] for r in await pool.fetch("SELECT stage FROM erp_push_attempts ORDER BY id")]
        assert steps == ["resolve", "write", "verify"]
        assert await pool.fetchval("SELECT attempts FROM erp_push_queue") == 1


async def test_an_existing_record_with_our_code_is_updated_not_duplicated() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        existing = await e.client.create_customer({**company(2), "sort1": "102", "khid": "KH-000002"}, 1)
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await enqueue(pool, sync_request("c-2", "KH-000002", company(2, email="new@example.cn")))
        await worker.run()
        matches = [c for c in await e.customers() if c["khid"] == "KH-000002"]
        assert len(matches) == 1 and matches[0]["ord"] == existing.erp_id
        assert matches[0]["fields"]["email"] == "new@example.cn"
        assert matches[0]["fields"]["sort1"] == "102"  # create defaults never overwrite an existing record
        assert e.outcomes("customer_allocate") == ["ok"]  # only the setup's own create allocated


async def test_a_record_with_the_exact_name_is_claimed_with_our_code() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        seeded = next(c for c in await e.customers() if not c["khid"])
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await enqueue(
            pool, sync_request("c-3", "KH-000003", {"name": seeded["name"], "email": "x@example.cn"})
        )
        await worker.run()
        after = {c["ord"]: c for c in await e.customers()}
        assert after[seeded["ord"]]["khid"] == "KH-000003"
        assert len(after) == 200


async def test_a_business_refusal_goes_to_the_dlq_after_one_attempt_with_the_erp_error() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m, create_defaults={})
        value, headers = sync_request("c-4", "KH-000004", {"name": "缺少分类有限公司", "person_name": "张三"})
        await enqueue(pool, (value, headers))
        report = await worker.run()
        assert (report.dead, report.synced, report.result) == (1, 0, "failed")
        [dead] = await _outbox(pool, topics.dlq(topics.RULES_CUSTOMER_SYNC_REQUESTED))
        assert dead["value"] == value  # the original bytes
        h = dead["headers"]
        assert h["event_id"] == headers["event_id"] and h["dlq-error-class"] == "BusinessError"
        assert "sort1" in h["dlq-error"] and h["dlq-attempts"] == "1" and h["dlq-erp-status"] == "6"
        [failed] = await _completions(pool)
        assert failed["result"] == "failed" and "sort1" in failed["error"]
        assert (
            await pool.fetchval("SELECT outcome FROM inbox WHERE event_id = $1::uuid", headers["event_id"])
            == "dead"
        )
        assert m.sync_failures.labels("push")._value.get() == 1


async def test_a_lost_reply_is_read_back_instead_of_saved_twice() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await e.faults(lost_reply_rate=1.0)
        await enqueue(pool, sync_request("c-5", "KH-000005", company(5)))
        await worker.run()
        [stored] = [c for c in await e.customers() if c["khid"] == "KH-000005"]
        assert stored["save_count"] == 1
        assert await pool.fetchval("SELECT (status, attempts)::text FROM erp_push_queue") == "(synced,1)"


async def test_a_silently_dropped_save_is_saved_again_to_the_same_ord() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await e.faults(silent_drop_rate=0.6)
        for n in range(10):
            await enqueue(pool, sync_request(f"c-{n}", f"KH-1{n:05d}", company(100 + n)))
        report = await worker.run()
        assert report.synced == 10
        ours = [c for c in await e.customers() if c["khid"].startswith("KH-1")]
        assert Counter(c["khid"] for c in ours) == Counter({f"KH-1{n:05d}": 1 for n in range(10)})
        attempts = [r["attempts"] for r in await pool.fetch("SELECT attempts FROM erp_push_queue")]
        assert max(attempts) <= 8 and sum(attempts) > 10


async def test_attempts_are_bounded_then_the_push_is_dead_lettered() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m, max_attempts=3)
        await e.faults(silent_drop_rate=1.0)
        await enqueue(pool, sync_request("c-6", "KH-000006", company(6)))
        report = await worker.run()
        assert report.dead == 1 and report.saves == 3
        assert (await e.state())["saves"] == 3
        [dead] = await _outbox(pool, topics.dlq(topics.RULES_CUSTOMER_SYNC_REQUESTED))
        assert dead["headers"]["dlq-error-class"] == "WriteNotPersistedError"
        assert dead["headers"]["dlq-attempts"] == "3"


async def test_a_newer_version_supersedes_an_older_pending_one() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await enqueue(pool, sync_request("c-7", "KH-000007", company(7, email="v1@example.cn"), version=1))
        await enqueue(
            pool,
            sync_request("c-7", "KH-000007", company(7, email="v3@example.cn"), version=3),
            sync_request("c-7", "KH-000007", company(7, email="v2@example.cn"), version=2),
        )
        await enqueue(pool, sync_request("c-7", "KH-000007", company(7, email="v1@example.cn"), version=1))
        await worker.run()
        [stored] = [c for c in await e.customers() if c["khid"] == "KH-000007"]
        assert stored["fields"]["email"] == "v3@example.cn" and stored["save_count"] == 1
        assert [c["version"] for c in await _completions(pool)] == [3]
        outcomes = dict(await pool.fetch("SELECT version, outcome FROM erp_push_requests ORDER BY version"))
        assert outcomes == {1: "superseded", 2: "superseded", 3: "synced"}


async def test_an_update_after_a_sync_reuses_the_erp_id_without_lookups() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        await enqueue(pool, sync_request("c-8", "KH-000008", company(8)))
        await worker.run()
        lists_before = e.outcomes("customer_list")
        await enqueue(pool, sync_request("c-8", "KH-000008", company(8, email="later@example.cn"), version=2))
        await worker.run()
        assert e.outcomes("customer_list") == lists_before  # no lookup, no allocation the second time
        [stored] = [c for c in await e.customers() if c["khid"] == "KH-000008"]
        assert stored["fields"]["email"] == "later@example.cn" and stored["save_count"] == 2
        assert [c["version"] for c in await _completions(pool)] == [1, 2]


async def test_retry_after_is_honoured_and_throttles_spend_no_extra_saves() -> None:
    settings = sim_settings(rate_limit_per_second=8, rate_limit_mode="http429")
    async with erp_schema() as (schema, pool), erp(settings) as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        for n in range(4):
            await enqueue(pool, sync_request(f"r-{n}", f"KH-2{n:05d}", company(200 + n)))
        report = await worker.run()
        assert report.synced == 4
        assert (await e.state())["faults_injected"].get("rate_limited", 0) > 0
        assert (await e.state())["saves"] == 4  # a throttled save was never applied, so never verified twice
        starts = [end - c.duration_s for end, c in zip(e.ended_at, e.calls, strict=True)]
        for i, call in enumerate(e.calls):
            if call.outcome == "throttled":  # the simulator said Retry-After >= 1 s: nobody sent earlier
                assert all(s >= e.ended_at[i] + 0.95 for s in starts[i + 1 :] if s > e.ended_at[i])


async def test_rejected_credentials_stop_the_worker_without_spending_attempts() -> None:
    async with erp_schema() as (schema, pool), erp(password="wrong-password") as e:
        m = metrics()
        control = await control_for(pool, e.client, m)
        worker = push_worker(schema, pool, e, control, m)
        for n in range(6):
            await enqueue(pool, sync_request(f"a-{n}", f"KH-3{n:05d}", company(300 + n)))
        report = await worker.run()
        assert control.state is RunState.STOPPED_AUTH and "AuthError" in (report.error or "")
        assert (await e.state())["login_failures"] == {"rollsync": 1}
        rows = await pool.fetch("SELECT status, attempts, read_failures FROM erp_push_queue")
        assert {(r["status"], r["attempts"], r["read_failures"]) for r in rows} == {("pending", 0, 0)}


async def test_an_open_breaker_pauses_the_worker_without_spending_attempts() -> None:
    async with erp_schema() as (schema, pool), erp(breaker_threshold=3, breaker_open_s=60) as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m, max_wait_in_run_s=1.0)
        await e.client.login()
        await e.faults(error_rate=1.0)
        for n in range(5):
            await enqueue(pool, sync_request(f"b-{n}", f"KH-4{n:05d}", company(400 + n)))
        await worker.run()
        rows = await pool.fetch(
            "SELECT attempts, read_failures, next_attempt_at > now() AS later FROM erp_push_queue"
        )
        assert sum(r["read_failures"] for r in rows) == 3  # the calls that opened it
        assert sum(r["attempts"] for r in rows) == 0
        assert all(r["later"] for r in rows)
        assert (await e.state())["faults_injected"]["error"] == 3


class _BreakerOpensBeforeTheSave:
    """The real client, except that the breaker is open at the first save (nothing is sent)."""

    def __init__(self, client: Any) -> None:
        self._client, self.refused = client, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def save_customer(self, *args: Any) -> None:
        if not self.refused:
            self.refused += 1
            raise CircuitOpenError(0.05)
        await self._client.save_customer(*args)


async def test_a_save_refused_by_the_open_breaker_spends_no_attempt() -> None:
    async with erp_schema() as (schema, pool), erp() as e:
        m = metrics()
        worker = push_worker(schema, pool, e, await control_for(pool, e.client, m), m)
        flaky = _BreakerOpensBeforeTheSave(e.client)
        worker._client = flaky
        await enqueue(pool, sync_request("o-1", "KH-500001", company(500)))
        report = await worker.run()
        assert flaky.refused == 1 and report.synced == 1
        assert await pool.fetchval("SELECT attempts FROM erp_push_queue") == 1
        assert (await e.state())["saves"] == 1
