"""Auth matrix (issue 10, DELIVERY.md S1): every operation of every OpenAPI document × every bad token.

Each variant must be refused with 401 (403 for a missing scope) and an RFC 6750 `WWW-Authenticate: Bearer`
challenge. The tokens are made with the stack's real signing key, so each is wrong in exactly one way; a
positive control per service shows the same key's good token is accepted, so the refusals are not an accident.
Operations come from the documents themselves (tests/support/operations.py): an operation without a security
requirement fails the test unless it is a listed public exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ingest.domain.clients import SCOPES
from tests.support.api import create_client, eventually, ingest_cli, login
from tests.support.operations import API_SERVICES, PUBLIC, Operation, operations, probe
from tests.support.stack import ServiceProcess, service_env
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.e2e

ALL = sorted(SCOPES)


def _signer() -> TestSigner:
    return TestSigner.from_file(Path(service_env("ingest")["INGEST_TOKEN_SIGNING_KEY_FILE"]))


async def _revoked_everywhere(
    http: httpx.AsyncClient, services: dict[str, ServiceProcess], token: str
) -> None:
    async def refused() -> bool:
        return all([await probe(http, services, svc, token) == 401 for svc in API_SERVICES])

    await eventually(refused, timeout_s=15, every_s=0.1)


def _variants(
    signer: TestSigner, good_client: str, disabled: str, rotated: str, narrow: dict[str, str]
) -> dict[str, Callable[[Operation], tuple[dict[str, str], int]]]:
    """name -> (operation -> (headers, expected status))."""
    now = int(time.time())

    def token(value: str, status: int = 401) -> Callable[[Operation], tuple[dict[str, str], int]]:
        return lambda _op: ({"Authorization": f"Bearer {value}"}, status)

    def claims(**overrides: Any) -> str:
        return signer.token(good_client, "admin", **overrides)

    return {
        "no token": lambda _op: ({}, 401),
        "malformed": token("not-a-jwt"),
        "bad signature": token(signer.hostile_tampered(client_id=good_client, scope="admin")),
        "alg=none": token(signer.hostile_alg_none(client_id=good_client, scope="admin")),
        "HS256 with the public key": token(
            signer.hostile_hs256_with_public_key(client_id=good_client, scope="admin")
        ),
        "expired": token(claims(iat=now - 1000, nbf=now - 1000, exp=now - 120)),
        "future nbf": token(claims(nbf=now + 600, exp=now + 900)),
        "wrong iss": token(claims(iss="https://attacker.example")),
        "wrong aud": token(claims(aud="another-api")),
        "disabled client": token(disabled),
        "rotated secret": token(rotated),
        # a real client's token holding one scope the operation does not ask for
        "missing scope": lambda op: (
            {"Authorization": f"Bearer {next(t for sc, t in narrow.items() if sc not in op.scopes)}"},
            403,
        ),
    }


def _problem(op: Operation, variant: str, expected: int, r: httpx.Response) -> str | None:
    challenge = r.headers.get("www-authenticate", "")
    if r.status_code != expected or not challenge.startswith("Bearer"):
        return f"{op.name} [{variant}]: {r.status_code} {challenge!r} {r.text[:120]}"
    code = r.json().get("code")
    if expected == 403 and ('error="insufficient_scope"' not in challenge or code != "insufficient_scope"):
        return f"{op.name} [{variant}]: 403 without insufficient_scope ({challenge!r}, {code})"
    if variant not in ("no token",) and expected == 401 and 'error="invalid_token"' not in challenge:
        return f"{op.name} [{variant}]: 401 without error=invalid_token ({challenge!r})"
    return None


async def test_every_operation_refuses_every_bad_token_with_rfc_6750_answers(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> None:
    ops, undeclared = await operations(http, services)
    assert not undeclared, "operations without a security requirement:\n" + "\n".join(undeclared)
    assert {op.service for op in ops} == set(API_SERVICES)

    ingest = services["ingest"].url
    good_client, _ = await create_client(admin, ALL)
    disabled_client, disabled_secret = await create_client(admin, ALL)
    rotated_client, rotated_secret = await create_client(admin, ALL)
    # every route takes some scope now: two one-scope clients, so each operation meets one it does not take
    narrow = {
        scope: await login(http, ingest, *await create_client(admin, [scope]))
        for scope in ("processes:write", "employees:write")
    }
    disabled = await login(http, ingest, disabled_client, disabled_secret)
    rotated = await login(http, ingest, rotated_client, rotated_secret)
    signer = _signer()

    # Positive control: the same key's good token, and the two soon-revoked ones, pass every service now.
    for svc in API_SERVICES:
        for value in (signer.token(good_client, "admin"), disabled, rotated):
            assert await probe(http, services, svc, value) not in (401, 403), svc
    ingest_cli("disable", disabled_client)
    ingest_cli("rotate", rotated_client)
    await _revoked_everywhere(http, services, disabled)
    await _revoked_everywhere(http, services, rotated)

    variants = _variants(signer, good_client, disabled, rotated, narrow)
    failures: list[str] = []
    requests = 0
    for op in ops:
        for name, make in variants.items():
            headers, expected = make(op)
            r = await op.call(http, headers)
            requests += 1
            if (problem := _problem(op, name, expected, r)) is not None:
                failures.append(problem)
    per_service = {svc: sum(op.service == svc for op in ops) for svc in API_SERVICES}
    print(  # noqa: T201 - the figures the issue asks for
        f"auth matrix: {len(ops)} operations {per_service} x {len(variants)} variants = {requests} requests, "
        f"{len(failures)} failures; public exceptions: {len(PUBLIC)}"
    )
    assert requests == len(ops) * len(variants)
    assert not failures, f"{len(failures)} of {requests} answers wrong:\n" + "\n".join(failures[:40])
