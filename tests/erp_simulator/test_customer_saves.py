import httpx
import pytest

from tests.erp_simulator.erp_calls import (
    CUSTOMER_ADD,
    V3_CUSTOMER_ADD,
    V3_CUSTOMER_EDIT,
    allocate,
    asp,
    list_customers,
    quiet_settings,
    save_unit,
    set_faults,
    sim_client,
    stored_customers,
    table_records,
    token_for,
    unit_customer,
    v3,
)


def detail_fields(result: dict[str, object]) -> dict[str, object]:
    bill = result["body"]["bill"]  # type: ignore[index]
    return {field["id"]: field["value"] for group in bill["groups"] for field in group["fields"]}


async def test_allocation_returns_a_new_ord_in_a_bill(client: httpx.AsyncClient, token: str) -> None:
    result = await asp(client, CUSTOMER_ADD, token, intsort=1)

    bill = result["body"]["bill"]
    assert isinstance(bill["value"], int)
    assert bill["value"] > max(await stored_customers(client))
    assert bill["groups"]


async def test_allocated_but_unsaved_ids_are_not_listed(client: httpx.AsyncClient, token: str) -> None:
    new_ord = await allocate(client, token)

    rows = table_records(await list_customers(client, token, pagesize=500))

    assert new_ord not in {row["ord"] for row in rows}
    assert new_ord not in await stored_customers(client)


async def test_allocate_save_and_read_back_the_detail(client: httpx.AsyncClient, token: str) -> None:
    new_ord = await allocate(client, token)

    saved = await save_unit(client, token, new_ord, bank_4="91440500MA00000001", address="汕头市龙湖区")
    detail = await asp(client, f"{CUSTOMER_ADD}?edit=1", token, ord=new_ord, intsort=1)

    assert saved["header"]["status"] == 0
    assert saved["body"]["message"]["title"]
    fields = detail_fields(detail)
    assert detail["body"]["bill"]["value"] == new_ord
    assert fields["name"] == "汕头测试彩印有限公司"
    assert fields["khid"] == "KH-000123"
    assert fields["bank_4"] == "91440500MA00000001"
    assert str(fields["date1"]).startswith("20")
    listed = table_records(await list_customers(client, token, khid="KH-000123"))
    assert [row["ord"] for row in listed] == [new_ord]


async def test_saving_an_existing_ord_updates_it(client: httpx.AsyncClient, token: str) -> None:
    new_ord = await allocate(client, token)
    await save_unit(client, token, new_ord)

    await save_unit(client, token, new_ord, mobile="13911112222")

    truth = (await stored_customers(client))[new_ord]
    assert truth["mobile"] == "13911112222"
    assert truth["save_count"] == 2
    assert len(await stored_customers(client)) == 201


async def test_saving_a_never_allocated_ord_fails(client: httpx.AsyncClient, token: str) -> None:
    result = await save_unit(client, token, 999_999)

    assert result["header"]["status"] != 0
    assert 999_999 not in await stored_customers(client)


@pytest.mark.parametrize("missing", ["name", "sort1", "person_name"])
async def test_unit_customer_required_fields(client: httpx.AsyncClient, token: str, missing: str) -> None:
    new_ord = await allocate(client, token)

    result = await save_unit(client, token, new_ord, **{missing: ""})

    assert result["header"]["status"] != 0
    assert missing in result["header"]["message"]
    assert new_ord not in await stored_customers(client)


async def test_personal_customer_needs_no_contact_person(client: httpx.AsyncClient, token: str) -> None:
    new_ord = await allocate(client, token, intsort=2)

    result = await asp(
        client, f"{CUSTOMER_ADD}?intsort=2", token, "__sys_dosave",
        ord=new_ord, name="张三", sort1="101",
    )  # fmt: skip

    assert result["header"]["status"] == 0
    assert (await stored_customers(client))[new_ord]["intsort"] == 2


async def test_overlong_name_is_rejected(client: httpx.AsyncClient, token: str) -> None:
    result = await save_unit(client, token, await allocate(client, token), name="厂" * 101)

    assert result["header"]["status"] != 0


async def test_enum_values_must_exist(client: httpx.AsyncClient, token: str) -> None:
    good = await save_unit(client, token, await allocate(client, token), ly="171", trade="139")
    bad = await save_unit(client, token, await allocate(client, token), khid="", ly="9999")

    assert good["header"]["status"] == 0
    assert bad["header"]["status"] != 0


async def test_duplicate_check_is_off_by_default(client: httpx.AsyncClient, token: str) -> None:
    first = await save_unit(client, token, await allocate(client, token))
    second = await save_unit(client, token, await allocate(client, token))

    assert first["header"]["status"] == second["header"]["status"] == 0


async def test_duplicate_check_on_name(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, duplicate_check="name")
    await save_unit(client, token, await allocate(client, token))

    duplicate = await save_unit(client, token, await allocate(client, token), khid="KH-000999")

    assert duplicate["header"]["status"] != 0
    assert duplicate["header"]["message"] == "客户名称重复"


async def test_duplicate_check_on_khid(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, duplicate_check="khid")
    first_ord = await allocate(client, token)
    await save_unit(client, token, first_ord)

    resave = await save_unit(client, token, first_ord, mobile="13700000000")
    duplicate = await save_unit(client, token, await allocate(client, token), name="另一家公司")

    assert resave["header"]["status"] == 0
    assert "重复" in duplicate["header"]["message"]


async def test_v3_add_renames_fields_and_returns_the_ord(client: httpx.AsyncClient, token: str) -> None:
    body = {"name": "东莞新星薄膜科技有限公司", "sort2": 1, "sort": "103", "sort1": "2",
            "mobile": "13512345678", "person_name": "李四"}  # fmt: skip

    result = await v3(client, V3_CUSTOMER_ADD, token, body)

    assert result["Code"] == 200
    new_ord = result["Data"]["ord"]
    truth = (await stored_customers(client))[new_ord]
    assert truth["fields"]["sort1"] == "103"
    assert truth["fields"]["follow_level"] == "2"
    rows = table_records(await list_customers(client, token, name="新星薄膜"))
    assert rows[0]["sortname"] == "薄膜厂"
    assert rows[0]["sort1name"] == "需求确认"


@pytest.mark.parametrize("mobile", ["1351234567", "23512345678", "1351234567a", "12012345678"])
async def test_v3_rejects_an_invalid_mobile_with_code_300(
    client: httpx.AsyncClient, token: str, mobile: str
) -> None:
    result = await v3(client, V3_CUSTOMER_ADD, token, {"name": "某公司", "mobile": mobile})

    assert result["Code"] == 300
    assert len(await stored_customers(client)) == 200


async def test_asp_does_not_check_the_mobile_format(client: httpx.AsyncClient, token: str) -> None:
    result = await save_unit(client, token, await allocate(client, token), mobile="0754-1234")

    assert result["header"]["status"] == 0


async def test_v3_edit_updates_and_unknown_ord_is_a_business_error(
    client: httpx.AsyncClient, token: str
) -> None:
    ord_ = min(await stored_customers(client))

    edited = await v3(client, V3_CUSTOMER_EDIT, token, {"ord": ord_, "khid": "KH-000777"})
    missing = await v3(client, V3_CUSTOMER_EDIT, token, {"ord": 999_999, "name": "x"})

    assert edited["Code"] == 200
    assert (await stored_customers(client))[ord_]["khid"] == "KH-000777"
    assert missing["Code"] == 300


async def test_v3_without_token_is_code_400(client: httpx.AsyncClient) -> None:
    response = await client.post(V3_CUSTOMER_ADD, json=unit_customer())

    assert response.json()["Code"] == 400


async def test_customer_created_via_api_belongs_to_the_users_sales_person(
    client: httpx.AsyncClient, token: str
) -> None:
    new_ord = await allocate(client, token)
    await save_unit(client, token, new_ord)

    rows = table_records(await list_customers(client, token, telord=str(new_ord)))

    assert rows[0]["catename"] == "陈静"


async def test_a_restarted_simulator_with_ords_from_the_clock_never_reissues_an_ord() -> None:
    """rollsync's database outlives the in-memory store: an ord handed out before a restart, and known there
    as some customer's, must not come back for another (else rules refuses: 'ord already linked')."""
    issued: list[int] = []
    for _ in range(2):  # two runs of the simulator, same seed
        async with sim_client(quiet_settings(ords_from_clock=True)) as client:
            token = await token_for(client)
            saved = await allocate(client, token)
            await save_unit(client, token, saved)
            issued += [saved, await allocate(client, token)]
            seeded = [o for o in await stored_customers(client) if o not in issued]
            assert min(issued[-2:]) > max(seeded)
    assert len(set(issued)) == len(issued) == 4


async def test_without_ords_from_the_clock_a_restart_hands_out_the_same_ords() -> None:
    """The default (same seed, same run) re-issues ords: what `ords_from_clock` exists to prevent."""
    issued = []
    for _ in range(2):
        async with sim_client() as client:
            issued.append(await allocate(client, await token_for(client)))
    assert issued[0] == issued[1]
