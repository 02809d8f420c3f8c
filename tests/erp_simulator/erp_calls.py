"""Helpers that speak the simulator's wire format, so tests read like the spec."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from erp_simulator.main import create_app
from erp_simulator.settings import SimulatorSettings

LOGIN = "/webapi/v3/ov1/login"
LOGIN_ASP = "/sysa/mobilephone/login.asp"
LOGOUT = "/sysa/mobilephone/logout.asp"
CUSTOMER_ADD = "/sysa/mobilephone/salesmanage/custom/add.asp"
CUSTOMER_LIST = "/sysa/mobilephone/salesmanage/custom/list.asp"
CONTRACT_ADD = "/sysa/mobilephone/salesmanage/contract/add.asp"
CONTRACT_LIST = "/sysa/mobilephone/salesmanage/contract/billlist.asp"
ENUMS = "/sysa/mobilephone/source.asp"
V3_CUSTOMER_ADD = "/webapi/v3/sales/customer/add"
V3_CUSTOMER_EDIT = "/webapi/v3/sales/customer/edit"
V3_CONTRACT_DETAIL = "/webapi/v3/sales/contract/detail"
V3_CONTRACT_ADD = "/webapi/v3/sale/contract/add"
PASSWORD = "dev-password"


def quiet_settings(**overrides: Any) -> SimulatorSettings:
    """Settings without random latency, so tests stay fast and exact.

    The values tests rely on are explicit, so ``ERP_SIMULATOR_*`` variables cannot change them.
    """
    values: dict[str, Any] = {
        "seed": 42,
        "customers": 200,
        "contracts": None,
        "user": "rollsync",
        "password": PASSWORD,
        "sales_person": "陈静",
        "session_ttl_seconds": 7200,
        "lockout_threshold": 3,
        "captcha": "8888",
        "page_size": 20,
        "latency_ms_min": 0,
        "latency_ms_max": 0,
        "rate_limit_per_second": None,
        "ords_from_clock": False,
        **overrides,
    }
    return SimulatorSettings(**values)


@asynccontextmanager
async def sim_client(settings: SimulatorSettings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings or quiet_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp.test") as client:
        yield client


def login_body(
    user: str = "txt:rollsync",
    password: str = f"txt:{PASSWORD}",
    serialnum: str = "txt:ABC123",
    rndcode: str = "",
) -> dict[str, Any]:
    return {"datas": pairs(user=user, password=password, serialnum=serialnum, rndcode=rndcode)}


async def login(client: httpx.AsyncClient, **body: str) -> dict[str, Any]:
    response = await client.post(LOGIN, json=login_body(**body))
    assert response.status_code == 200
    header: dict[str, Any] = response.json()["header"]
    return header


async def token_for(client: httpx.AsyncClient, user: str = "rollsync", password: str = PASSWORD) -> str:
    header = await login(client, user=f"txt:{user}", password=f"txt:{password}")
    assert header["status"] == 0, header
    return str(header["session"])


def pairs(**fields: Any) -> list[dict[str, Any]]:
    return [{"id": key, "val": value} for key, value in fields.items()]


async def asp(
    client: httpx.AsyncClient, path: str, token: str | None, cmdkey: str | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"session": token, "datas": pairs(**fields)}
    if cmdkey is not None:
        body["cmdkey"] = cmdkey
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def v3(client: httpx.AsyncClient, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers={"ZBAPI-Token": token})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def list_customers(client: httpx.AsyncClient, token: str, **params: Any) -> dict[str, Any]:
    return await asp(client, CUSTOMER_LIST, token, "refresh", **params)


def table_records(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Pair ``cols[i].id`` with each value, whichever row form the page used."""
    table = result["body"]["source"]["table"]
    ids = [col["id"] for col in table["cols"]]
    values = [row["value"] if isinstance(row, dict) else row for row in table["rows"]]
    return [dict(zip(ids, row, strict=True)) for row in values]


def pagecount(result: dict[str, Any]) -> int:
    return int(result["body"]["source"]["table"]["page"]["pagecount"])


async def set_faults(client: httpx.AsyncClient, **knobs: Any) -> dict[str, Any]:
    response = await client.post("/_sim/faults", json=knobs)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def stored_customers(client: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    response = await client.get("/_sim/customers")
    return {row["ord"]: row for row in response.json()["customers"]}


async def allocate(client: httpx.AsyncClient, token: str, intsort: int = 1) -> int:
    result = await asp(client, CUSTOMER_ADD, token, intsort=intsort)
    assert result["header"]["status"] == 0, result
    return int(result["body"]["bill"]["value"])


def unit_customer(**overrides: str) -> dict[str, str]:
    return {
        "name": "汕头测试彩印有限公司",
        "sort1": "101",
        "person_name": "王测试",
        "mobile": "13800000001",
        "khid": "KH-000123",
        **overrides,
    }


async def save_unit(client: httpx.AsyncClient, token: str, ord_: int, **fields: str) -> dict[str, Any]:
    path = f"{CUSTOMER_ADD}?intsort=1"
    return await asp(client, path, token, "__sys_dosave", ord=ord_, **unit_customer(**fields))
