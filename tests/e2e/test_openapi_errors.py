"""Every service's OpenAPI document declares the error answers its operations really give (issue 10, item 6),
with the shared error body, and the running services answer within what is documented.

Before: the documents declared 200 and FastAPI's own 422 only (58 mismatches between documents and behaviour).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.api import bearer, create_client, login
from tests.support.operations import PUBLIC
from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e
SERVICES = ("ingest", "transform", "transform-progress", "rules", "erp-connector")
# the operations without a Bearer token: one list, the auth matrix's public exceptions
UNSECURED = {(method.lower(), path) for _, method, path in PUBLIC}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

Operation = tuple[str, str, dict[str, Any]]  # (method, path, operation object)


async def _document(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    r = await http.get(f"{url}/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def _operations(doc: dict[str, Any]) -> list[Operation]:
    return [(m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def _declared(op: dict[str, Any]) -> set[int]:
    return {int(s) for s in op["responses"] if s.isdigit()}


def _url(base: str, path: str) -> str:
    return base + re.sub(r"\{[^}]+\}", "x1", path)


async def _declared_too_large(method: str, url: str) -> httpx.Response:
    """A request announcing a body far over any service's limit (answered from the header, body unsent)."""
    target = httpx.URL(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    head = f"{method.upper()} {target.raw_path.decode()} HTTP/1.1\r\nHost: {target.host}\r\n"
    writer.write(f"{head}Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n".encode())
    await writer.drain()
    status_line, *fields = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(f.lower().split(": ", 1) for f in fields if f)
    body = await reader.readexactly(int(headers["content-length"]))
    writer.close()
    return httpx.Response(int(status_line.split()[1]), content=body)


@pytest.mark.parametrize("service", SERVICES)
async def test_each_operation_documents_the_shared_error_answers(
    service: str, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    doc = await _document(http, services[service].url)
    assert set(doc["components"]["schemas"]["Error"]["required"]) == {"code", "message", "request_id"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    missing = {}
    for method, path, op in _operations(doc):
        expected = {413, 422, 500, 503} | ({400} if method in ("post", "put", "patch") else set())
        if (method, path) not in UNSECURED:
            expected |= {401, 403, 429}
        if expected - _declared(op):
            missing[f"{method.upper()} {path}"] = sorted(expected - _declared(op))
        for status, answer in op["responses"].items():
            if status[0] in "45":
                assert answer["content"]["application/json"]["schema"] == ERROR_REF, (path, status)
        if "429" in op["responses"]:
            assert "Retry-After" in op["responses"]["429"]["headers"]
    assert not missing, missing


@pytest.mark.parametrize("service", SERVICES)
async def test_what_the_services_answer_is_what_they_document(
    service: str, admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    """Per operation: no token (401), a token without the scope (403), a NUL in the query (422), a body over
    the limit (413): each answer has the shared body and a status the operation declares."""
    base = services[service].url
    no_scope = bearer(await login(http, services["ingest"].url, *await create_client(admin, ["none"])))
    mismatches = []
    for method, path, op in _operations(await _document(http, base)):
        secured = (method, path) not in UNSECURED
        probes = {
            "no token": (await http.request(method, _url(base, path), json={}), 401 if secured else None),
            "no scope": (
                await http.request(method, _url(base, path), json={}, headers=no_scope),
                403 if secured else None,
            ),
            # with a (scope-less) token: a write without one is refused 401 before its input is looked at
            "NUL query": (
                await http.request(method, _url(base, path) + "?q=%00", json={}, headers=no_scope),
                422,
            ),
            "huge body": (await _declared_too_large(method, _url(base, path)), 413),
        }
        for name, (r, expected) in probes.items():
            if expected is None and r.is_success:
                continue  # a public operation (the JWKS document) answers without a token
            body = r.json()
            ok = r.status_code in _declared(op) and {"code", "message", "request_id"} <= body.keys()
            if not ok or (expected is not None and r.status_code != expected):
                mismatches.append(f"{method.upper()} {path} {name}: {r.status_code} {body.get('code')}")
    assert not mismatches, mismatches
