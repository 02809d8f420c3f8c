"""Every HTTP operation of every service, read from the services' own OpenAPI documents.

The auth tests are generated from these lists, so a new route is covered without anyone listing it, and a route
without a security requirement is a failure unless it is one of the PUBLIC exceptions below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.stack import ServiceProcess

API_SERVICES = ("ingest", "transform", "rules", "erp-connector")
METHODS = ("get", "put", "post", "delete", "patch")
SCHEME = "bearerAuth"
# (service, method, path) -> why it needs no token. Health and metrics are not in the documents at all.
PUBLIC = {
    ("ingest", "POST", "/auth/system-login"): "the token endpoint: clients authenticate with their secret",
    ("ingest", "GET", "/.well-known/jwks.json"): "public keys only, by definition public (RFC 7517)",
    ("ingest", "GET", "/internal/token-revocations"): (
        "revoked client ids and versions for the other services; not routed through the edge"
    ),
}
# A request per operation that reaches the auth check without doing anything once past it: path parameters
# filled in, a JSON body where one is taken ({} is well-formed, so no 400 comes before the 401).
_PARAM = re.compile(r"\{([^}]+)\}")
# One request per service that a good token gets past the auth check without changing anything.
PROBES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "ingest": ("POST", "/sync/contracts/batch", {"contracts": []}),  # 422 empty_batch once authorised
    "transform": ("GET", "/contracts?limit=1", None),
    "rules": ("GET", "/rules", None),
    "erp-connector": ("GET", "/sync/erp/status", None),
}


async def probe(
    http: httpx.AsyncClient, services: dict[str, ServiceProcess], service: str, token: str
) -> int:
    """The status of the service's PROBES request with this token."""
    method, path, body = PROBES[service]
    headers = {"Authorization": f"Bearer {token}"}
    r = await http.request(method, services[service].url + path, headers=headers, json=body)
    return r.status_code


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str  # as documented, e.g. /customers/{customer_id}
    url: str  # concrete
    scopes: tuple[str, ...]  # the scopes of the first Bearer requirement (admin is always an alternative)
    takes_body: bool

    @property
    def name(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    async def call(self, http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
        if self.takes_body:
            return await http.request(self.method, self.url, headers=headers, json={})
        return await http.request(self.method, self.url, headers=headers)


def _concrete(path: str, operation: dict[str, Any]) -> str:
    kinds = {
        p["name"]: p.get("schema", {}).get("type")
        for p in operation.get("parameters", [])
        if p.get("in") == "path"
    }
    return _PARAM.sub(lambda m: "1" if kinds.get(m.group(1)) == "integer" else "x", path)


async def operations(
    http: httpx.AsyncClient, services: dict[str, ServiceProcess]
) -> tuple[list[Operation], list[str]]:
    """(protected operations, problems): a problem is an operation that is neither secured nor PUBLIC."""
    found: list[Operation] = []
    problems: list[str] = []
    for service in API_SERVICES:
        r = await http.get(f"{services[service].url}/openapi.json")
        assert r.status_code == 200, f"{service}: no OpenAPI document ({r.status_code})"
        document = r.json()
        if SCHEME not in document.get("components", {}).get("securitySchemes", {}):
            problems.append(f"{service}: no {SCHEME} security scheme declared")
        for path, item in document["paths"].items():
            for method in METHODS:
                if method not in item:
                    continue
                op, key = item[method], (service, method.upper(), path)
                requirement = [req[SCHEME] for req in op.get("security", []) if SCHEME in req]
                if key in PUBLIC:
                    if requirement:
                        problems.append(f"{service} {method.upper()} {path}: listed public but secured")
                    continue
                if not requirement or not requirement[0]:
                    problems.append(f"{service} {method.upper()} {path}: no Bearer security requirement")
                    continue
                url = services[service].url + _concrete(path, op)
                takes_body = "requestBody" in op or method in ("post", "put", "patch")
                found.append(Operation(service, method.upper(), path, url, tuple(requirement[0]), takes_body))
    return found, problems
