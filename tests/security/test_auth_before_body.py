"""Issue 10: authentication comes before the body. A write request with no token, or an invalid one, is
answered 401 whatever its body (malformed JSON, a NUL, a huge integer, wrong fields), on every write route of
every service, read from each service's own OpenAPI document so a new route is covered without editing this."""

from __future__ import annotations

import re

import httpx
import jwt
import pytest

from tests.support.stack import ServiceProcess

pytestmark = pytest.mark.e2e

PUBLIC = {("ingest", "POST", "/auth/system-login")}  # the login itself: its body is the credentials
SERVICES = ("ingest", "transform", "rules", "erp-connector")
BODIES = {
    "malformed": b'{"contracts": [',
    "nul": b'{"name": "a\\u0000b"}',
    "huge_integer": b'{"offset": 123456789012345678901234567890}',
    "wrong_fields": b'{"unexpected": true}',
}
_CLAIMS = {
    "iss": "rollsync-ingest",
    "aud": "rollsync",
    "client_id": "x",
    "scope": "admin",
    "iat": 0,
    "nbf": 0,
}
TOKENS = {
    "none": None,
    "not_a_jwt": "Bearer not-a-token",
    "not_bearer": "Basic Zm9vOmJhcg==",
    "bad_signature": "Bearer " + jwt.encode({**_CLAIMS, "exp": 2**40}, "not-the-key-" * 4, algorithm="HS256"),
}


async def _write_routes(
    http: httpx.AsyncClient, services: dict[str, ServiceProcess]
) -> list[tuple[str, str, str]]:
    routes = []
    for name in SERVICES:
        doc = (await http.get(f"{services[name].url}/openapi.json")).json()
        for path, ops in doc["paths"].items():
            for method in ops:
                if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                    routes.append((name, method.upper(), re.sub(r"\{[^}]+\}", "x1", path)))
    return routes


async def test_every_write_route_answers_401_before_looking_at_the_body(
    services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    routes = await _write_routes(http, services)
    assert len(routes) >= 16, routes  # ingest 5, rules 7, erp-connector 3, transform 1
    wrong = []
    checked = 0
    for name, method, path in routes:
        if (name, method, path) in PUBLIC:
            continue
        for body_kind, body in BODIES.items():
            for token_kind, token in TOKENS.items():
                headers = {"Content-Type": "application/json"}
                if token:
                    headers["Authorization"] = token
                r = await http.request(method, f"{services[name].url}{path}", content=body, headers=headers)
                checked += 1
                if r.status_code != 401 or "www-authenticate" not in r.headers:
                    wrong.append((name, method, path, body_kind, token_kind, r.status_code, r.text[:120]))
    print(f"auth before body: {checked} requests on {len(routes) - len(PUBLIC)} write routes")  # noqa: T201
    assert wrong == []
