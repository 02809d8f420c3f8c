"""Rotating ingest's signing key without downtime (docs/runbook.md, "Rotating the token signing key").

ingest restarts with a new signing key and the old one published beside it: tokens signed before the rotation
keep working on every service until they expire, tokens signed after are accepted at once (an unknown `kid`
makes a service read the JWKS again). Once the old key is retired from the JWKS, its tokens are refused
everywhere within the services' key cache age. Only ingest ever reads a private key.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.token_keys import load_private_key, public_jwk
from tests.support.api import create_client, eventually, login
from tests.support.operations import API_SERVICES, probe
from tests.support.stack import ServiceProcess, service_env

pytestmark = pytest.mark.e2e

VERIFIERS = ("transform", "rules", "erp-connector")


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _new_key(path: Path) -> str:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return public_jwk(key.public_key())["kid"]


async def _accepted(
    http: httpx.AsyncClient, services: dict[str, ServiceProcess], token: str
) -> dict[str, int]:
    return {svc: await probe(http, services, svc, token) for svc in API_SERVICES}


def _restart_ingest(services: dict[str, ServiceProcess], **env: str) -> None:
    ingest = services["ingest"]
    ingest.stop()
    ingest.extra_env = env
    ingest.start()


@pytest.fixture
async def restore_ingest(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient
) -> AsyncIterator[None]:
    yield
    if not services["ingest"].extra_env:
        return
    _restart_ingest(services)  # the stack's own key again, nothing else published
    token = await login(http, services["ingest"].url, *await create_client(admin, ["admin"]))

    async def accepted() -> bool:  # later tests start with every service trusting the stack's key
        return all(s not in (401, 403) for s in (await _accepted(http, services, token)).values())

    await eventually(accepted, timeout_s=20, every_s=0.2)


async def test_rotation_keeps_old_tokens_until_the_old_key_is_retired(
    admin: asyncpg.Connection,
    services: dict[str, ServiceProcess],
    http: httpx.AsyncClient,
    tmp_path: Path,
    restore_ingest: None,
) -> None:
    original = Path(service_env("ingest")["INGEST_TOKEN_SIGNING_KEY_FILE"])
    old_kid = public_jwk(load_private_key(original).public_key())["kid"]
    client = await create_client(admin, ["admin"])
    ingest = services["ingest"].url
    before = await login(http, ingest, *client)
    assert _kid(before) == old_kid
    assert all(s not in (401, 403) for s in (await _accepted(http, services, before)).values())

    new_key = tmp_path / "token-signing.next.pem"
    new_kid = _new_key(new_key)
    # Step 1 of the runbook's rotation: sign with the new key, keep publishing the old one.
    _restart_ingest(
        services,
        INGEST_TOKEN_SIGNING_KEY_FILE=str(new_key),
        INGEST_TOKEN_PUBLISHED_KEY_FILES=str(original),
    )
    published = (await http.get(f"{ingest}/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in published] == [new_kid, old_kid]
    assert all("d" not in k for k in published)
    after = await login(http, ingest, *client)
    assert _kid(after) == new_kid
    started = time.monotonic()

    async def both_accepted() -> bool:
        answers = [*(await _accepted(http, services, after)).values()]
        answers += [*(await _accepted(http, services, before)).values()]
        return all(s not in (401, 403) for s in answers)

    await eventually(both_accepted, timeout_s=10, every_s=0.2)
    print(f"new kid accepted everywhere after {(time.monotonic() - started) * 1000:.0f} ms")  # noqa: T201

    # Step 2, once every token of the old key has expired: stop publishing it.
    _restart_ingest(services, INGEST_TOKEN_SIGNING_KEY_FILE=str(new_key))
    started = time.monotonic()

    async def old_refused() -> bool:
        return all(s == 401 for s in (await _accepted(http, services, before)).values())

    await eventually(old_refused, timeout_s=20, every_s=0.2)
    print(f"retired kid refused everywhere after {(time.monotonic() - started) * 1000:.0f} ms")  # noqa: T201
    assert all(s not in (401, 403) for s in (await _accepted(http, services, after)).values())


async def test_only_ingest_is_given_a_private_key(services: dict[str, ServiceProcess]) -> None:
    assert "INGEST_TOKEN_SIGNING_KEY_FILE" in service_env("ingest")
    for svc in VERIFIERS:
        env = service_env(svc)
        assert not [k for k in env if "SIGNING" in k or "TOKEN_SECRET" in k], svc
        assert env[f"{svc.upper().replace('-', '_')}_TOKEN_JWKS_URL"].endswith("/.well-known/jwks.json")
    assert services["ingest"].proc is not None
