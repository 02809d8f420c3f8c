import asyncio

import httpx
import pytest

from tests.erp_simulator.erp_calls import (
    CUSTOMER_LIST,
    V3_CONTRACT_DETAIL,
    quiet_settings,
    set_faults,
    sim_client,
    token_for,
)


async def post_list(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(CUSTOMER_LIST, json={"session": token, "cmdkey": "refresh"})


async def test_envelope_mode_fails_inside_an_asp_envelope(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, rate_limit_per_second=2, rate_limit_mode="envelope")

    responses = [await post_list(client, token) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    statuses = [r.json()["header"]["status"] for r in responses]
    assert statuses[:2] == [0, 0]
    assert statuses[2] != 0
    assert "频繁" in responses[2].json()["header"]["message"]


async def test_envelope_mode_answers_v3_with_code_300(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, rate_limit_per_second=1, rate_limit_mode="envelope")
    headers = {"ZBAPI-Token": token}

    codes = [
        (await client.post(V3_CONTRACT_DETAIL, json={"ord": 5001}, headers=headers)).json()["Code"]
        for _ in range(2)
    ]

    assert codes == [200, 300]


@pytest.mark.parametrize(("mode", "status"), [("http429", 429), ("http503", 503)])
async def test_http_modes_answer_with_retry_after(
    client: httpx.AsyncClient, token: str, mode: str, status: int
) -> None:
    await set_faults(client, rate_limit_per_second=2, rate_limit_mode=mode)

    responses = [await post_list(client, token) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, status]
    retry_after = responses[2].headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1


async def test_retry_after_grows_with_a_slower_limit(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, rate_limit_per_second=0.2, rate_limit_mode="http429")

    await post_list(client, token)
    throttled = await post_list(client, token)

    assert int(throttled.headers["Retry-After"]) == 5


async def test_bucket_refills_over_time(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, rate_limit_per_second=10, rate_limit_mode="http503")
    burst = [(await post_list(client, token)).status_code for _ in range(11)]

    await asyncio.sleep(0.25)
    later = await post_list(client, token)

    assert burst[:10] == [200] * 10
    assert burst[10] == 503
    assert later.status_code == 200


async def test_limit_is_per_session_token(client: httpx.AsyncClient, token: str) -> None:
    other = await token_for(client)
    await set_faults(client, rate_limit_per_second=1, rate_limit_mode="http429")

    first = await post_list(client, token)
    throttled = await post_list(client, token)
    other_token = await post_list(client, other)

    assert (first.status_code, throttled.status_code, other_token.status_code) == (200, 429, 200)
    state = (await client.get("/_sim/state")).json()
    assert state["faults_injected"] == {"rate_limited": 1}


async def test_rate_limit_can_start_from_settings() -> None:
    settings = quiet_settings(rate_limit_per_second=1, rate_limit_mode="http503")
    async with sim_client(settings) as client:
        token = await token_for(client)
        statuses = [(await post_list(client, token)).status_code for _ in range(2)]

    # The login used the anonymous bucket, the list calls their token's bucket.
    assert statuses == [200, 503]
