import asyncio

import httpx

from tests.erp_simulator.erp_calls import (
    V3_CONTRACT_DETAIL,
    list_customers,
    quiet_settings,
    set_faults,
    sim_client,
    table_records,
    token_for,
    v3,
)


async def test_expired_session_fails_in_the_asp_envelope(client: httpx.AsyncClient, token: str) -> None:
    expired = await client.post("/_sim/expire-sessions")

    result = await list_customers(client, token)

    assert expired.json() == {"expired": 1}
    assert result["header"]["status"] != 0
    assert result["header"]["message"] == "登录超时或未登录"
    assert "body" not in result


async def test_expired_session_fails_with_v3_code_400(client: httpx.AsyncClient, token: str) -> None:
    await client.post("/_sim/expire-sessions")

    result = await v3(client, V3_CONTRACT_DETAIL, token, {"ord": 5001})

    assert result["Code"] == 400


async def test_unknown_token_is_rejected(client: httpx.AsyncClient) -> None:
    result = await list_customers(client, "NOT-A-TOKEN")

    assert result["header"]["status"] != 0


async def test_the_asp_token_also_works_for_v3(client: httpx.AsyncClient, token: str) -> None:
    result = await v3(client, V3_CONTRACT_DETAIL, token, {"ord": 5001})

    assert result["Code"] == 200


async def test_session_expires_after_its_time_to_live() -> None:
    settings = quiet_settings(session_ttl_seconds=0.2)
    async with sim_client(settings) as client:
        token = await token_for(client)
        fresh = await list_customers(client, token)
        await asyncio.sleep(0.3)
        stale = await list_customers(client, token)

    assert fresh["header"]["status"] == 0
    assert stale["header"]["message"] == "登录超时或未登录"


async def test_expiry_message_is_configurable() -> None:
    async with sim_client(quiet_settings(session_expired_message="会话已失效")) as client:
        result = await list_customers(client, "BAD")

    assert result["header"]["message"] == "会话已失效"


async def test_single_session_per_user_cancels_the_older_token() -> None:
    async with sim_client(quiet_settings(single_session_per_user=True)) as client:
        older = await token_for(client)
        newer = await token_for(client)
        old_result = await list_customers(client, older)
        new_result = await list_customers(client, newer)

    assert old_result["header"]["status"] != 0
    assert new_result["header"]["status"] == 0


async def test_session_expires_after_the_kth_list_page_of_a_scan(
    client: httpx.AsyncClient, token: str
) -> None:
    await set_faults(client, expire_after_pages=2)

    page1 = await list_customers(client, token, pageindex=1, _rpt_sort="ord")
    page2 = await list_customers(client, token, pageindex=2, _rpt_sort="ord")
    page3 = await list_customers(client, token, pageindex=3, _rpt_sort="ord")
    relogin = await token_for(client)
    resumed = await list_customers(client, relogin, pageindex=3, _rpt_sort="ord")

    assert len(table_records(page1)) == len(table_records(page2)) == 20
    assert page3["header"]["message"] == "登录超时或未登录"
    assert len(table_records(resumed)) == 20
    state = (await client.get("/_sim/state")).json()
    assert state["faults_injected"]["session_expired_mid_scan"] == 1
