import re

import httpx

from tests.erp_simulator.erp_calls import (
    CUSTOMER_LIST,
    asp,
    list_customers,
    pagecount,
    quiet_settings,
    set_faults,
    sim_client,
    stored_customers,
    table_records,
    token_for,
)

DOCUMENTED_COLUMNS = [
    "ord", "name", "khid", "catename", "sortname", "sort1name", "personname", "personjob",
    "person", "phone", "mobile", "fax", "email", "weixin", "qq", "part1", "intro", "telintro",
    "url", "personurl", "address",
]  # fmt: skip


async def test_list_without_refresh_returns_the_skeleton_without_a_table(
    client: httpx.AsyncClient, token: str
) -> None:
    result = await asp(client, CUSTOMER_LIST, token, pagesize=5)

    assert result["header"]["status"] == 0
    assert "source" in result["body"]
    assert "table" not in result["body"]["source"]


async def test_list_columns_are_the_documented_ones(client: httpx.AsyncClient, token: str) -> None:
    result = await list_customers(client, token)

    cols = result["body"]["source"]["table"]["cols"]
    assert [col["id"] for col in cols] == DOCUMENTED_COLUMNS
    assert all(col["caption"] for col in cols)
    assert result["body"]["source"]["type_"] == "table"


async def test_default_page_size_is_20_and_pagecount_covers_all_rows(
    client: httpx.AsyncClient, token: str
) -> None:
    result = await list_customers(client, token)

    assert len(table_records(result)) == 20
    assert pagecount(result) == 10  # 200 seeded customers


async def test_paging_is_one_based_and_covers_each_customer_once(
    client: httpx.AsyncClient, token: str
) -> None:
    pages = [
        table_records(await list_customers(client, token, pagesize=30, pageindex=i, _rpt_sort="ord"))
        for i in range(1, 8)
    ]

    ords = [row["ord"] for page in pages for row in page]
    assert [len(page) for page in pages] == [30, 30, 30, 30, 30, 30, 20]
    assert ords == sorted(await stored_customers(client))


async def test_page_past_the_end_has_empty_rows(client: httpx.AsyncClient, token: str) -> None:
    result = await list_customers(client, token, pagesize=50, pageindex=5)

    assert table_records(result) == []
    assert pagecount(result) == 4


async def test_sort_by_ord_ascending_and_descending(client: httpx.AsyncClient, token: str) -> None:
    ascending = table_records(await list_customers(client, token, _rpt_sort="ord", pagesize=500))
    descending = table_records(await list_customers(client, token, _rpt_sort="-ord", pagesize=500))

    ords = [row["ord"] for row in ascending]
    assert ords == sorted(ords)
    assert [row["ord"] for row in descending] == ords[::-1]


async def test_sorting_applies_to_the_whole_result_not_one_page(
    client: httpx.AsyncClient, token: str
) -> None:
    first = table_records(await list_customers(client, token, _rpt_sort="-ord", pagesize=5))

    assert first[0]["ord"] == max(await stored_customers(client))


async def test_sort_by_a_text_column(client: httpx.AsyncClient, token: str) -> None:
    rows = table_records(await list_customers(client, token, _rpt_sort="name", pagesize=500))

    names = [row["name"] for row in rows]
    assert names == sorted(names)


async def test_name_filter_is_fuzzy(client: httpx.AsyncClient, token: str) -> None:
    rows = table_records(await list_customers(client, token, name="汕头", pagesize=500))

    truth = [c for c in (await stored_customers(client)).values() if "汕头" in c["name"]]
    assert rows
    assert all("汕头" in row["name"] for row in rows)
    assert len(rows) == len(truth)


async def test_khid_filter_is_fuzzy_so_exact_matching_is_the_clients_job(
    client: httpx.AsyncClient, token: str
) -> None:
    truth = [c for c in (await stored_customers(client)).values() if c["khid"]]
    prefix = truth[0]["khid"][:-1]

    rows = table_records(await list_customers(client, token, khid=prefix, pagesize=500))

    assert len(rows) >= 1
    assert all(row["khid"].startswith(prefix) for row in rows)


async def test_phone_filter_matches_mobiles_too(client: httpx.AsyncClient, token: str) -> None:
    customer = next(iter((await stored_customers(client)).values()))

    rows = table_records(await list_customers(client, token, phone=customer["mobile"]))

    assert [row["ord"] for row in rows] == [customer["ord"]]


async def test_address_and_intro_filters(client: httpx.AsyncClient, token: str) -> None:
    by_address = table_records(await list_customers(client, token, address="东莞", pagesize=500))
    by_intro = table_records(await list_customers(client, token, intro="月结", pagesize=500))

    assert by_address and all("东莞" in row["address"] for row in by_address)
    assert by_intro and all("月结" in row["intro"] for row in by_intro)


async def test_search_key_spans_text_columns(client: httpx.AsyncClient, token: str) -> None:
    customers = list((await stored_customers(client)).values())
    mobile, city = customers[3]["mobile"], "昆山"

    by_mobile = table_records(await list_customers(client, token, searchKey=mobile))
    by_city = table_records(await list_customers(client, token, searchKey=city, pagesize=500))

    assert [row["ord"] for row in by_mobile] == [customers[3]["ord"]]
    assert by_city and all(city in row["name"] or city in row["address"] for row in by_city)


async def test_add_time_range_filters_on_date1(client: httpx.AsyncClient, token: str) -> None:
    truth = await stored_customers(client)
    wanted = {o for o, c in truth.items() if "2022-01-01" <= c["added_at"][:10] <= "2022-03-31"}

    rows = table_records(
        await list_customers(client, token, date1_0="2022-01-01", date1_1="2022-03-31", pagesize=500)
    )

    assert wanted
    assert {row["ord"] for row in rows} == wanted


async def test_there_is_no_modified_since_filter(client: httpx.AsyncClient, token: str) -> None:
    everything = await list_customers(client, token, pagesize=500)
    asked = await list_customers(client, token, pagesize=500, modifydate_0="2030-01-01", date2_0="2030-01-01")

    assert len(table_records(asked)) == len(table_records(everything)) == 200


async def test_modified_time_is_never_exposed(client: httpx.AsyncClient, token: str) -> None:
    result = await list_customers(client, token)

    assert not re.search(r"modif", str(result), re.IGNORECASE)


async def test_rows_can_come_as_objects_with_ord(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, row_form="object")

    result = await list_customers(client, token, pagesize=3)

    rows = result["body"]["source"]["table"]["rows"]
    assert all(set(row) == {"value", "ord"} for row in rows)
    assert [row["ord"] for row in rows] == [row["value"][0] for row in rows]


async def test_permission_none_sees_no_rows(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, permission={"rollsync": "none"})

    result = await list_customers(client, token)

    assert result["header"]["status"] == 0
    assert table_records(result) == []


async def test_permission_own_sees_only_the_users_sales_person(client: httpx.AsyncClient, token: str) -> None:
    everyone = table_records(await list_customers(client, token, pagesize=500))
    await set_faults(client, permission={"rollsync": "own"})

    own = table_records(await list_customers(client, token, pagesize=500))

    assert 0 < len(own) < len(everyone)
    assert {row["catename"] for row in own} == {"陈静"}
    assert len(own) == sum(1 for row in everyone if row["catename"] == "陈静")


async def test_permission_is_per_user() -> None:
    extra = [{"name": "sales01", "password": "pw-1", "sales_person": "王磊", "permission": "own"}]
    async with sim_client(quiet_settings(extra_users=extra)) as client:
        integration = await token_for(client)
        sales = await token_for(client, "sales01", "pw-1")
        all_rows = table_records(await list_customers(client, integration, pagesize=500))
        own_rows = table_records(await list_customers(client, sales, pagesize=500))

    assert len(all_rows) == 200
    assert own_rows and {row["catename"] for row in own_rows} == {"王磊"}


async def test_list_is_mirrored_under_webapi_ov1(client: httpx.AsyncClient, token: str) -> None:
    mirrored = await asp(client, "/webapi/v3/ov1/salesmanage/custom/list", token, "refresh")

    assert table_records(mirrored) == table_records(await list_customers(client, token))
