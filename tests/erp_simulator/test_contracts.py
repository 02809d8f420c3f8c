import httpx
import pytest

from tests.erp_simulator.erp_calls import (
    CONTRACT_ADD,
    CONTRACT_LIST,
    V3_CONTRACT_ADD,
    V3_CONTRACT_DETAIL,
    asp,
    pagecount,
    set_faults,
    table_records,
    v3,
)

CONTRACT_COLUMNS = [
    "ord", "htid", "title", "khmc", "xsry", "htfl", "moneyall", "hkmoney", "htbz", "dateQD",
    "dateKS", "dateZZ", "spzt", "spMan", "UrgentType", "ckjz", "fhjz", "skjz", "kpjz",
]  # fmt: skip


def contract_header(company: int, /, **overrides: object) -> dict[str, object]:
    return {
        "company": company, "htid": "HT2099001", "title": "凹印版辊制版", "date3": "2099-01-05",
        "date1": "2099-01-05", "sort": 192, "bz": 14, "premoney": "12000.00", "yhvalue": "0",
        "money1": "12000.00", "fqhk": 0, "invoicePlan": 1, "invoiceMode": 2, **overrides,
    }  # fmt: skip


async def contracts(client: httpx.AsyncClient, token: str, **params: object) -> dict[str, object]:
    return await asp(client, CONTRACT_LIST, token, "refresh", **params)


async def test_contract_list_needs_refresh(client: httpx.AsyncClient, token: str) -> None:
    skeleton = await asp(client, CONTRACT_LIST, token)

    assert "table" not in skeleton["body"]["source"]


async def test_contract_list_pages_with_documented_columns(client: httpx.AsyncClient, token: str) -> None:
    result = await contracts(client, token, pagesize=50, pageindex=3)

    table = result["body"]["source"]["table"]  # type: ignore[index]
    assert [col["id"] for col in table["cols"]] == CONTRACT_COLUMNS
    assert pagecount(result) == 3  # 120 seeded contracts
    assert len(table_records(result)) == 20


async def test_htbh_filter_is_fuzzy_on_the_contract_number(client: httpx.AsyncClient, token: str) -> None:
    rows = table_records(await contracts(client, token, htbh="HT2022", pagesize=500))

    assert rows
    assert all(row["htid"].startswith("HT2022") for row in rows)


async def test_khmc_filter_matches_the_customer_name(client: httpx.AsyncClient, token: str) -> None:
    first = table_records(await contracts(client, token, pagesize=1))[0]

    rows = table_records(await contracts(client, token, khmc=first["khmc"], pagesize=500))

    assert first["ord"] in {row["ord"] for row in rows}
    assert all(row["khmc"] == first["khmc"] for row in rows)


async def test_contract_save_and_v3_detail_round_trip(client: httpx.AsyncClient, token: str) -> None:
    customer = 1001

    saved = await asp(client, CONTRACT_ADD, token, "__sys_dosave", **contract_header(customer))
    new_ord = saved["body"]["message"]["data"]["ord"]
    detail = await v3(client, V3_CONTRACT_DETAIL, token, {"ord": new_ord})

    assert saved["header"]["status"] == 0
    assert detail["Code"] == 200
    data = detail["Data"]
    assert (data["Title"], data["Htid"], data["Date3"]) == ("凹印版辊制版", "HT2099001", "2099-01-05")
    assert data["Premoney"] == data["Money1"] == "12000.00"
    assert data["Complete1Name"] == "生效执行中"
    assert data["Date7"]
    assert data["contractlist"] == []
    listed = table_records(await contracts(client, token, datatype="tel", ord=customer))
    assert new_ord in {row["ord"] for row in listed}


@pytest.mark.parametrize(
    "missing",
    ["company", "htid", "title", "date3", "date1", "sort", "bz", "premoney", "yhvalue", "money1",
     "fqhk", "invoicePlan", "invoiceMode"],
)  # fmt: skip
async def test_contract_required_fields(client: httpx.AsyncClient, token: str, missing: str) -> None:
    result = await asp(client, CONTRACT_ADD, token, "__sys_dosave", **contract_header(1001, **{missing: ""}))

    assert result["header"]["status"] != 0
    assert missing in result["header"]["message"]


async def test_contract_for_an_unknown_customer_is_refused(client: httpx.AsyncClient, token: str) -> None:
    result = await asp(client, CONTRACT_ADD, token, "__sys_dosave", **contract_header(999_999))

    assert result["header"]["status"] != 0


async def test_seeded_contract_detail_has_product_lines(client: httpx.AsyncClient, token: str) -> None:
    detail = await v3(client, V3_CONTRACT_DETAIL, token, {"ord": 5001})

    lines = detail["Data"]["contractlist"]
    assert lines
    assert {"Title", "Order1", "Type1", "Num1", "Date2"} <= set(lines[0])


async def test_contract_detail_respects_permission(client: httpx.AsyncClient, token: str) -> None:
    await set_faults(client, permission={"rollsync": "none"})

    detail = await v3(client, V3_CONTRACT_DETAIL, token, {"ord": 5001})
    listed = await contracts(client, token)

    assert detail["Code"] == 300
    assert table_records(listed) == []


async def test_contract_save_into_an_allocated_ord(client: httpx.AsyncClient, token: str) -> None:
    allocated = await asp(client, CONTRACT_ADD, token)
    new_ord = allocated["body"]["bill"]["value"]

    saved = await asp(client, CONTRACT_ADD, token, "__sys_dosave", ord=new_ord, **contract_header(1001))
    resaved = await asp(
        client, CONTRACT_ADD, token, "__sys_dosave", ord=new_ord, **contract_header(1001, title="改")
    )

    truth = {c["ord"]: c for c in (await client.get("/_sim/contracts")).json()["contracts"]}
    assert saved["body"]["message"]["data"]["ord"] == resaved["body"]["message"]["data"]["ord"]
    assert truth[new_ord]["save_count"] == 2
    assert truth[new_ord]["fields"]["title"] == "改"


async def test_v3_contract_add(client: httpx.AsyncClient, token: str) -> None:
    result = await v3(client, V3_CONTRACT_ADD, token, contract_header(1001, htid="HT2099002"))
    invalid = await v3(client, V3_CONTRACT_ADD, token, contract_header(1001, date3="05/01/2099"))

    assert result["Code"] == 200
    detail = await v3(client, V3_CONTRACT_DETAIL, token, {"ord": result["Data"]["ord"]})
    assert detail["Data"]["Htid"] == "HT2099002"
    assert invalid["Code"] == 300
