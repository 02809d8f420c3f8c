import httpx
import pytest

from erp_simulator.errors import SimulatedConnectionResetError
from tests.erp_simulator.erp_calls import (
    V3_CUSTOMER_ADD,
    allocate,
    save_unit,
    set_faults,
    stored_customers,
    unit_customer,
)


async def test_silent_drop_answers_success_and_stores_nothing(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, silent_drop_rate=1.0)
    new_ord = await allocate(client, token)

    result = await save_unit(client, token, new_ord)

    assert result["header"]["status"] == 0
    assert new_ord not in await stored_customers(client)
    state = (await client.get("/_sim/state")).json()
    assert state["faults_injected"] == {"silent_drop": 1}
    assert state["saves"] == 1
    assert state["saves_applied"] == 0


async def test_silently_dropped_update_keeps_the_old_values(client: httpx.AsyncClient, token: str) -> None:
    ord_ = min(await stored_customers(client))
    before = (await stored_customers(client))[ord_]
    await set_faults(client, silent_drop_rate=1.0)

    await save_unit(client, token, ord_, mobile="13600000000")

    assert (await stored_customers(client))[ord_] == before


async def test_a_dropped_allocation_can_be_saved_again(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, silent_drop_rate=1.0)
    new_ord = await allocate(client, token)
    await save_unit(client, token, new_ord)
    await set_faults(client, silent_drop_rate=0.0)

    await save_unit(client, token, new_ord)

    assert (await stored_customers(client))[new_ord]["save_count"] == 1


async def test_partial_save_stores_required_fields_but_loses_others(
    client: httpx.AsyncClient, token: str
) -> None:
    await set_faults(client, partial_save_rate=1.0)
    new_ord = await allocate(client, token)
    sent = unit_customer(address="佛山市南海区", email="x@example.com", qq="123456")

    result = await save_unit(client, token, new_ord, **sent)

    stored = (await stored_customers(client))[new_ord]["fields"]
    assert result["header"]["status"] == 0
    assert {stored["name"], stored["sort1"], stored["person_name"]} == {
        sent["name"],
        sent["sort1"],
        sent["person_name"],
    }
    optional = {"mobile", "khid", "address", "email", "qq"}
    assert optional - set(stored), "at least one optional field must be lost"


async def test_lost_reply_applies_the_save_but_answers_http_500(
    client: httpx.AsyncClient, token: str
) -> None:
    await set_faults(client, lost_reply_rate=1.0)
    new_ord = await allocate(client, token)

    response = await client.post(
        "/sysa/mobilephone/salesmanage/custom/add.asp?intsort=1",
        json={"session": token, "cmdkey": "__sys_dosave",
              "datas": [{"id": k, "val": v} for k, v in {"ord": new_ord, **unit_customer()}.items()]},
    )  # fmt: skip

    assert response.status_code == 500
    assert (await stored_customers(client))[new_ord]["save_count"] == 1


async def test_lost_reply_on_v3_is_http_500_with_code_500(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, lost_reply_rate=1.0)

    response = await client.post(V3_CUSTOMER_ADD, json=unit_customer(), headers={"ZBAPI-Token": token})

    assert response.status_code == 500
    assert response.json()["Code"] == 500
    assert len(await stored_customers(client)) == 201


async def test_lost_reply_can_drop_the_connection_instead(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, lost_reply_rate=1.0, lost_reply_mode="reset")
    new_ord = await allocate(client, token)

    with pytest.raises(SimulatedConnectionResetError):
        await save_unit(client, token, new_ord)

    assert (await stored_customers(client))[new_ord]["khid"] == "KH-000123"


async def test_validation_errors_come_before_write_faults(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, lost_reply_rate=1.0)

    result = await save_unit(client, token, await allocate(client, token), name="")

    assert result["header"]["status"] != 0
    assert (await client.get("/_sim/state")).json()["faults_injected"] == {}
