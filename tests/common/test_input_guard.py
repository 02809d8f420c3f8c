"""The shared input check and the database data-error mapping, in process (no infrastructure)."""

from __future__ import annotations

import re

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI, Request
from hypothesis import given
from hypothesis import strategies as st

from common.input_guard import InputGuard, suspect
from common.web import unexpected_error


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(InputGuard)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


async def _post(body: bytes, path: str = "/echo") -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post(path, content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"a": "x\\u0000"}', "unstorable_text"),
        (b'{"k\\u0000": 1}', "unstorable_text"),
        (b'{"a": [1, {"b": 9223372036854775808}]}', "integer_out_of_range"),
        (b'{"a": -9223372036854775809}', "integer_out_of_range"),
    ],
)
async def test_unstorable_json_is_422_with_a_stable_code(body: bytes, code: str) -> None:
    r = await _post(body)
    assert (r.status_code, r.json()["code"]) == (422, code)


# The pre-filter as first written; the table-and-substring one must say the same of every body.
_REFERENCE = re.compile(rb"\\u0000|[0-9]{19,}")
_BODY_BYTES = st.lists(
    st.sampled_from([b"0", b"7", b"9", b"\\", b"u", b"a", b" ", b"/", b":", b"\xe5"]), max_size=80
)


@given(_BODY_BYTES, st.integers(min_value=0, max_value=25))
def test_the_prefilter_agrees_with_the_regex_it_replaced(parts: list[bytes], run: int) -> None:
    body = b"".join(parts) + b"1" * run + b"".join(reversed(parts)) + b"\\u0000"[: run % 7]
    assert suspect(body) == bool(_REFERENCE.search(body))


async def test_storable_input_reaches_the_route_unchanged() -> None:
    body = orjson.dumps({"a": "\\u0000 is text here", "n": 9223372036854775807, "digits": "1" * 40})
    r = await _post(body)
    assert r.status_code == 200
    assert r.json() == {"bytes": len(body)}


async def test_nul_in_the_query_is_422() -> None:
    r = await _post(b"{}", "/echo?q=a%00")
    assert (r.status_code, r.json()["code"]) == (422, "unstorable_text")


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.NumericValueOutOfRangeError("integer out of range"),
        asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence"),
        asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape sequence"),
    ],
)
def test_database_data_errors_are_422_not_500(exc: Exception) -> None:
    r = unexpected_error(exc)
    assert r.status_code == 422
    assert orjson.loads(bytes(r.body))["code"] == "unstorable_value"
