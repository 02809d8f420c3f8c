"""HttpZhibangClient against the in-process ERP simulator (a real simulator, no network)."""

from __future__ import annotations

import pytest

from erp_connector.domain.breaker import BreakerState
from erp_connector.domain.errors import (
    AuthError,
    BusinessError,
    CaptchaRequiredError,
    CircuitOpenError,
    TransientError,
    WriteNotPersistedError,
)
from tests.erp_connector.harness import erp, sim_settings

NEW = {"name": "汕头测试新客户彩印有限公司", "sort1": "101", "person_name": "王测试", "mobile": "13800000001"}


async def test_login_uses_txt_credentials_and_lists_pages_in_ord_order() -> None:
    async with erp() as e:
        first = await e.client.list_customers(1, 100)
        second = await e.client.list_customers(2, 100)
        assert first.page_count == 2 and not first.is_last and second.is_last
        ords = [c.erp_id for c in first.customers + second.customers]
        assert ords == sorted(ords) and len(ords) == 200
        assert (await e.state())["logins"] == 1


async def test_object_rows_read_the_same_as_array_rows() -> None:
    async with erp() as e:
        arrays = await e.client.list_customers(1, 100)
        await e.faults(row_form="object")
        objects = await e.client.list_customers(1, 100)
        assert arrays.customers == objects.customers
        assert [c.content_hash for c in arrays.customers] == [c.content_hash for c in objects.customers]


async def test_an_expired_session_is_renewed_once_and_the_call_retried() -> None:
    async with erp() as e:
        await e.client.list_customers(1, 100)
        await e.sim.post("/_sim/expire-sessions", json={})
        page = await e.client.list_customers(2, 100)
        assert len(page.customers) == 100
        assert (await e.state())["logins"] == 2
        assert e.outcomes("customer_list") == ["ok", "session", "ok"]


async def test_a_wrong_password_is_tried_once_and_never_again() -> None:
    async with erp(password="wrong-password") as e:
        with pytest.raises(AuthError) as first:
            await e.client.list_customers(1, 100)
        assert not isinstance(first.value, CaptchaRequiredError)
        for _ in range(3):
            with pytest.raises(AuthError):
                await e.client.find_by_code("KH-1")
        state = await e.state()
        assert state["failed_logins"] == 1
        assert state["login_failures"] == {"rollsync": 1}
        assert e.client.auth_error is first.value
        e.client.reset_auth()  # an operator resumed: exactly one more login
        with pytest.raises(AuthError):
            await e.client.list_customers(1, 100)
        assert (await e.state())["failed_logins"] == 2


async def test_a_captcha_demand_stops_the_client() -> None:
    async with erp() as e:
        for _ in range(3):  # someone else tripped the lockout
            await e.sim.post(
                "/sysa/mobilephone/login.asp",
                json={
                    "datas": [
                        {"id": "user", "val": "txt:rollsync"},
                        {"id": "password", "val": "txt:x"},
                        {"id": "serialnum", "val": "txt:A1"},
                    ]
                },
            )
        with pytest.raises(CaptchaRequiredError):
            await e.client.login()
        with pytest.raises(CaptchaRequiredError):
            await e.client.list_customers(1, 100)
        assert e.outcomes("login") == ["captcha"]


async def test_find_by_code_compares_exactly_after_the_fuzzy_filter() -> None:
    async with erp() as e:
        for code in ("KH-1", "KH-10", "KH-100"):
            await e.client.create_customer({**NEW, "name": f"{NEW['name']}{code}", "khid": code}, 1)
        found = await e.client.find_by_code("KH-10")
        assert found is not None and found.code == "KH-10"
        assert await e.client.find_by_code("KH-2") is None
        by_name = await e.client.find_by_name(f"{NEW['name']}KH-1")
        assert by_name is not None and by_name.code == "KH-1"


async def test_create_allocates_saves_and_reads_back() -> None:
    async with erp() as e:
        record = await e.client.create_customer({**NEW, "khid": "KH-000123"}, 1)
        assert record.code == "KH-000123" and record.contact_name == "王测试"
        [stored] = [c for c in await e.customers() if c["khid"] == "KH-000123"]
        assert stored["ord"] == record.erp_id and stored["save_count"] == 1
        assert [c.operation for c in e.calls] == [
            "login",
            "customer_allocate",
            "customer_save",
            "customer_detail",
        ]


async def test_a_silently_dropped_save_is_caught_by_the_read_back() -> None:
    async with erp() as e:
        await e.faults(silent_drop_rate=1.0)
        with pytest.raises(WriteNotPersistedError) as dropped:
            await e.client.create_customer({**NEW, "khid": "KH-9"}, 1)
        await e.faults(silent_drop_rate=0.0, partial_save_rate=1.0)
        with pytest.raises(WriteNotPersistedError) as partial:
            await e.client.update_customer(
                1001, {"name": "改名彩印有限公司", "mobile": "13900000000", "email": "a@b.cn"}, 1
            )
        assert dropped.value.fields == [] and partial.value.fields


async def test_update_saves_with_the_existing_ord() -> None:
    async with erp() as e:
        record = await e.client.update_customer(1001, {"email": "new@example.cn"}, 1)
        assert record.erp_id == 1001 and record.email == "new@example.cn"
        assert next(c for c in await e.customers() if c["ord"] == 1001)["save_count"] == 2
        with pytest.raises(BusinessError, match="不存在"):
            await e.client.update_customer(999_999, {"email": "x@y.cn"}, 1)
        assert await e.client.get_customer(999_999) is None


async def test_a_business_rule_refusal_carries_the_erp_text() -> None:
    async with erp() as e:
        with pytest.raises(BusinessError, match=r"person_name"):
            await e.client.create_customer({"name": "缺联系人有限公司", "sort1": "101"}, 1)


@pytest.mark.parametrize(
    ("knobs", "outcome"),
    [
        ({"error_rate": 1.0}, "transient"),
        ({"html_error_rate": 1.0}, "transient"),
        ({"truncated_json_rate": 1.0}, "transient"),
        ({"reset_rate": 1.0}, "transient"),
    ],
)
async def test_server_faults_are_transient(knobs: dict[str, float], outcome: str) -> None:
    async with erp() as e:
        await e.client.login()
        await e.faults(**knobs)
        with pytest.raises(TransientError) as failed:
            await e.client.list_customers(1, 100)
        assert failed.value.maybe_applied
        assert e.outcomes("customer_list") == [outcome]


async def test_a_hung_call_times_out() -> None:
    # 1 s, not less: the login before the fault shares the timeout, and a loaded CI machine once took > 0.2 s.
    async with erp(call_timeout_s=1.0) as e:
        await e.client.login()
        await e.faults(timeout_rate=1.0, hang_seconds=5)
        with pytest.raises(TransientError, match="timeout"):
            await e.client.get_customer(1001)
        assert e.outcomes("customer_detail") == ["timeout"]


async def test_a_429_blocks_every_caller_until_retry_after() -> None:
    async with erp(sim_settings(rate_limit_per_second=2, rate_limit_mode="http429")) as e:
        await e.client.login()
        with pytest.raises(TransientError) as throttled:
            for _ in range(5):
                await e.client.get_customer(1001)
        assert throttled.value.throttled and throttled.value.retry_after is not None
        assert e.transport.limiter.blocked_for() > 0.5  # the next call waits out Retry-After
        await e.client.get_customer(1001)
        assert e.outcomes("customer_detail")[-1] == "ok"


async def test_the_breaker_opens_and_refuses_without_calling() -> None:
    async with erp(breaker_threshold=2, breaker_open_s=30) as e:
        await e.client.login()
        await e.faults(error_rate=1.0)
        for _ in range(2):
            with pytest.raises(TransientError):
                await e.client.get_customer(1001)
        before = (await e.state())["requests_total"]
        with pytest.raises(CircuitOpenError):
            await e.client.get_customer(1001)
        assert (await e.state())["requests_total"] == before
        assert e.client.breaker_state is BreakerState.OPEN


async def test_summaries_never_carry_the_password_or_the_session_token() -> None:
    async with erp() as e:
        await e.client.create_customer({**NEW, "khid": "KH-7"}, 1)
        text = repr([(c.request, c.response) for c in e.calls])
        assert "sim-password-for-tests" not in text
        assert "session" not in text
        login = next(c for c in e.calls if c.operation == "login")
        assert login.request == {"datas": {"user": "txt:rollsync"}, "cmdkey": "login"}
