"""Reading request bodies the lenient way the ERP does, without FastAPI's 422 answers."""

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from erp_simulator.errors import BadRequestError

_BAD_BODY = "请求数据格式错误"


@dataclass(frozen=True)
class AspCall:
    """An ASP-style request: query parameters overlaid with the ``datas`` id/val pairs."""

    params: dict[str, str]
    cmdkey: str
    token: str | None


async def read_asp_call(request: Request) -> AspCall:
    data = await read_json_object(request)
    params = dict(request.query_params)
    datas = data.get("datas") or []
    if not isinstance(datas, list):
        raise BadRequestError(_BAD_BODY)
    for item in datas:
        if isinstance(item, dict) and "id" in item:
            params[str(item["id"])] = as_text(item.get("val"))
    token = data.get("session")
    cmdkey = as_text(data.get("cmdkey")) or params.get("cmdkey", "")
    return AspCall(params, cmdkey, token if isinstance(token, str) else None)


async def read_v3_fields(request: Request) -> dict[str, str]:
    return {str(key): as_text(value) for key, value in (await read_json_object(request)).items()}


def as_text(value: Any) -> str:
    """Field values arrive as strings, numbers or lists; the ERP stores text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        return ",".join(as_text(item) for item in value)
    return orjson.dumps(value).decode()


async def read_json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(_BAD_BODY) from exc
    if not isinstance(data, dict):
        raise BadRequestError(_BAD_BODY)
    return data
