import asyncio
import json
import time

import httpx
import pytest

from erp_simulator.errors import SimulatedConnectionResetError
from tests.erp_simulator.erp_calls import (
    CUSTOMER_ADD,
    CUSTOMER_LIST,
    V3_CONTRACT_DETAIL,
    allocate,
    list_customers,
    quiet_settings,
    save_unit,
    set_faults,
    sim_client,
    stored_customers,
    token_for,
    unit_customer,
)

LIST_BODY = {"cmdkey": "refresh", "datas": []}


async def post_list(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(CUSTOMER_LIST, json={**LIST_BODY, "session": token})


async def test_error_rate_answers_http_500_html(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, error_rate=1.0)

    response = await post_list(client, token)

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")


async def test_error_rate_on_v3_answers_http_500_with_code_500(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, error_rate=1.0)

    response = await client.post(V3_CONTRACT_DETAIL, json={"ord": 5001}, headers={"ZBAPI-Token": token})

    assert response.status_code == 500
    assert response.json()["Code"] == 500


async def test_html_error_rate_answers_html_under_http_200(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, html_error_rate=1.0)

    response = await post_list(client, token)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_truncated_json_keeps_http_valid_but_breaks_the_json(
    client: httpx.AsyncClient, token: str
) -> None:
    await set_faults(client, truncated_json_rate=1.0)

    response = await post_list(client, token)

    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content) > 0
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_reset_rate_drops_the_connection(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, reset_rate=1.0)

    with pytest.raises(SimulatedConnectionResetError):
        await post_list(client, token)


async def test_faults_before_the_handler_do_not_apply_a_save(client: httpx.AsyncClient, token: str) -> None:
    new_ord = await allocate(client, token)
    await set_faults(client, error_rate=1.0)
    datas = [{"id": key, "val": value} for key, value in unit_customer().items()]

    response = await client.post(
        f"{CUSTOMER_ADD}?intsort=1",
        json={"session": token, "cmdkey": "__sys_dosave", "datas": [*datas, {"id": "ord", "val": new_ord}]},
    )

    assert response.status_code == 500
    assert new_ord not in await stored_customers(client)


async def test_timeout_hangs_longer_than_the_client_waits(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, timeout_rate=1.0, hang_seconds=30)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(post_list(client, token), timeout=0.2)


async def test_after_the_hang_the_request_is_served(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, timeout_rate=1.0, hang_seconds=0.2)

    started = time.perf_counter()
    response = await post_list(client, token)

    assert time.perf_counter() - started >= 0.2
    assert response.json()["header"]["status"] == 0


async def test_latency_delays_every_emulated_request(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, latency_ms_min=80, latency_ms_max=100)

    started = time.perf_counter()
    await post_list(client, token)
    elapsed = time.perf_counter() - started
    control_started = time.perf_counter()
    await client.get("/_sim/state")

    assert elapsed >= 0.08
    assert time.perf_counter() - control_started < 0.08


async def test_control_endpoints_are_never_faulted(client: httpx.AsyncClient) -> None:
    await set_faults(client, error_rate=1.0, reset_rate=1.0)

    response = await client.get("/_sim/state")

    assert response.status_code == 200
    assert response.json()["faults_injected"] == {}


async def test_fault_draws_are_reproducible_for_a_seed() -> None:
    async def statuses(seed: int) -> list[int]:
        async with sim_client(quiet_settings(seed=seed)) as client:
            token = await token_for(client)
            await set_faults(client, error_rate=0.5)
            return [(await post_list(client, token)).status_code for _ in range(40)]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)

    assert first == again
    assert first != other
    assert 500 in first and 200 in first


async def test_state_counts_requests_and_injected_faults(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, html_error_rate=1.0)
    for _ in range(3):
        await post_list(client, token)

    state = (await client.get("/_sim/state")).json()

    assert state["requests_by_path"][CUSTOMER_LIST] == 3
    assert state["faults_injected"] == {"html_error": 3}
    assert state["stored_customers"] == 200


@pytest.mark.parametrize(
    "knobs",
    [{"error_rate": 1.5}, {"no_such_knob": 1}, {"rate_limit_mode": "smoke"},
     {"latency_ms_min": 50, "latency_ms_max": 10}],
)  # fmt: skip
async def test_invalid_fault_settings_are_refused(
    client: httpx.AsyncClient, knobs: dict[str, object]
) -> None:
    response = await client.post("/_sim/faults", json=knobs)

    assert response.status_code == 422
    assert (await client.get("/_sim/faults")).json()["error_rate"] == 0.0


async def test_reset_restores_seed_data_and_clears_faults_and_counters(
    client: httpx.AsyncClient, token: str
) -> None:
    await save_unit(client, token, await allocate(client, token))
    await set_faults(client, error_rate=1.0, row_form="object")

    reset = await client.post("/_sim/reset")

    state = (await client.get("/_sim/state")).json()
    assert reset.status_code == 200
    assert state["stored_customers"] == 200
    assert state["faults"]["error_rate"] == 0.0
    assert state["faults"]["row_form"] == "array"
    assert state["requests_by_path"] == {}
    fresh = await token_for(client)
    assert (await list_customers(client, fresh))["header"]["status"] == 0


async def test_fault_bodies_are_read_as_json_whatever_the_content_type(
    client: httpx.AsyncClient,
) -> None:
    # `curl -d '{...}'` sends application/x-www-form-urlencoded.
    form = {"content-type": "application/x-www-form-urlencoded"}

    response = await client.post("/_sim/faults", content=b'{"html_error_rate": 0.5}', headers=form)

    assert response.status_code == 200
    assert (await client.get("/_sim/faults")).json()["html_error_rate"] == 0.5
