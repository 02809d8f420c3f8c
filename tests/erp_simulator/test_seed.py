import re
import time
from typing import Any

import httpx

from tests.erp_simulator.erp_calls import (
    list_customers,
    quiet_settings,
    sim_client,
    stored_customers,
    table_records,
    token_for,
)

NAME = re.compile(r"(汕头|温州|瑞安|常州|东莞|昆山|佛山)\w{2}(彩印|软包装|包装材料|薄膜科技|印务)有限公司")
MOBILE = re.compile(r"1[3-9]\d{9}")


async def full_list(seed: int) -> list[dict[str, Any]]:
    async with sim_client(quiet_settings(seed=seed)) as client:
        token = await token_for(client)
        return table_records(await list_customers(client, token, pagesize=500, _rpt_sort="ord"))


async def test_same_seed_gives_identical_lists() -> None:
    first, second = await full_list(42), await full_list(42)

    assert first == second
    assert len(first) == 200


async def test_another_seed_gives_other_customers() -> None:
    assert await full_list(42) != await full_list(43)


async def test_seeded_customers_look_like_printing_and_packaging_firms(
    client: httpx.AsyncClient,
) -> None:
    customers = list((await stored_customers(client)).values())

    assert all(NAME.fullmatch(c["name"]) for c in customers)
    assert all(MOBILE.fullmatch(c["mobile"]) for c in customers)
    assert len({c["name"] for c in customers}) == len(customers)
    assert all(c["fields"]["trade"] == "139" for c in customers)
    assert {c["fields"]["ly"] for c in customers} == {"172", "173"}
    empty_code_share = sum(1 for c in customers if not c["khid"]) / len(customers)
    assert 0.7 <= empty_code_share <= 0.9


async def test_seed_size_is_configurable() -> None:
    async with sim_client(quiet_settings(customers=55, contracts=7)) as client:
        state = (await client.get("/_sim/state")).json()

    assert (state["stored_customers"], state["stored_contracts"]) == (55, 7)


async def test_seeded_contracts_reference_seeded_customers(client: httpx.AsyncClient) -> None:
    customers = await stored_customers(client)
    contracts = (await client.get("/_sim/contracts")).json()["contracts"]

    assert contracts
    assert all(int(c["company"]) in customers for c in contracts)
    assert all(re.fullmatch(r"HT20\d{5}", c["htid"]) for c in contracts)


async def test_bulk_insert_of_20000_customers_is_fast_and_listable(
    client: httpx.AsyncClient, token: str
) -> None:
    started = time.perf_counter()
    response = await client.post("/_sim/customers", json={"count": 20_000})
    elapsed = time.perf_counter() - started

    body = response.json()
    assert body["inserted"] == 20_000
    assert body["stored_customers"] == 20_200
    assert elapsed < 5
    last_page = await list_customers(client, token, pagesize=500, pageindex=41, _rpt_sort="ord")
    assert [row["ord"] for row in table_records(last_page)][-1] == body["last_ord"]


async def test_reset_can_reseed_with_other_parameters(client: httpx.AsyncClient) -> None:
    response = await client.post("/_sim/reset", json={"seed": 5, "customers": 30})

    assert response.json()["stored_customers"] == 30
    assert response.json()["seed"]["contracts"] == 18
    assert len(await stored_customers(client)) == 30


async def test_reset_without_a_body_returns_to_the_configured_seed(client: httpx.AsyncClient) -> None:
    original = await stored_customers(client)
    await client.post("/_sim/reset", json={"seed": 5, "customers": 30})

    await client.post("/_sim/reset")

    assert await stored_customers(client) == original
