"""common.bearer / token_keys / revocation: EdDSA only, keys by kid from a JWKS, revocation, fail closed."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from common.bearer import (
    LEEWAY_S,
    TokenClaims,
    TokenError,
    TokenVerifier,
    remote_verifier,
    require_scope,
    revocations_url,
)
from common.revocation import RevocationPoller, RevocationsUnavailableError
from common.service import Metrics, base_app
from common.settings import TokenVerifierSettingsMixin
from common.token_keys import KeysUnavailableError, RemoteKeySet, jwks, key_from_jwk, public_jwk
from tests.support.tokens import TestSigner


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _jwks_server(documents: list[dict[str, Any]]) -> tuple[httpx.AsyncClient, list[str]]:
    """An in-process ingest whose JWKS is documents[-1] at each request; counts the requests."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=documents[-1])

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


def test_kid_is_the_rfc_7638_thumbprint() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    jwk = public_jwk(key)
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"))
    expected = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
    assert jwk["kid"] == expected
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert "d" not in jwk  # never the private half
    assert key_from_jwk(jwk)[0] == expected
    with pytest.raises(ValueError, match="thumbprint"):
        key_from_jwk({**jwk, "kid": "renamed"})


async def test_a_good_token_gives_its_claims() -> None:
    signer = TestSigner()
    claims = await signer.verifier().verify(signer.token("c1", "sync:read admin", ver=3))
    assert claims == TokenClaims("c1", frozenset({"sync:read", "admin"}), 3)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda s: s.hostile_alg_none(), "algorithm 'none' is not allowed"),
        (lambda s: s.hostile_hs256_with_public_key(), "algorithm 'HS256' is not allowed"),
        (lambda s: s.hostile_tampered(scope="admin"), "Signature verification failed"),
        (lambda s: TestSigner().token(), "unknown key id"),
        (lambda s: s.token(exp=1_000_000), "expired"),
        (lambda s: s.token(nbf=4_000_000_000), "not yet valid"),
        (lambda s: s.token(iss="someone-else"), "issuer"),
        (lambda s: s.token(aud="another-api"), "(?i)audience"),
        (lambda s: s.token(ver=None), "ver"),
        (lambda s: s.token(ver="1"), "ver is not an integer"),
        (lambda s: "not.a.jwt", "Invalid header|Not enough segments|Invalid"),
    ],
)
async def test_every_forged_or_stale_token_is_refused(build: Any, reason: str) -> None:
    signer = TestSigner()
    token = build(signer)
    with pytest.raises(TokenError, match=reason):
        await signer.verifier().verify(token)


async def test_a_token_without_the_version_claim_is_refused() -> None:
    signer = TestSigner()
    claims = signer.claims()
    del claims["ver"]
    token = jwt.encode(claims, signer.key, algorithm="EdDSA", headers={"kid": signer.kid})
    with pytest.raises(TokenError, match="ver"):
        await signer.verifier().verify(token)


async def test_remote_keys_refetch_an_unknown_kid_at_most_once_per_interval() -> None:
    old, new = TestSigner(), TestSigner()
    documents = [jwks([old.key.public_key()])]
    http, seen = _jwks_server(documents)
    clock = Clock()
    keys = RemoteKeySet("http://ingest/.well-known/jwks.json", http, min_refetch_s=1.0, clock=clock)
    verifier = TokenVerifier(keys, "rollsync-ingest", "rollsync")
    await verifier.verify(old.token())
    assert len(seen) == 1
    documents.append(jwks([new.key.public_key(), old.key.public_key()]))  # ingest rotated
    for _ in range(50):  # within the interval of the first fetch: answered from the cache
        with pytest.raises(TokenError, match="unknown key id"):
            await verifier.verify(TestSigner().token())
    assert len(seen) == 1
    clock.now += 1.5
    for _ in range(50):  # made-up kids cost one request per interval, not one each
        with pytest.raises(TokenError, match="unknown key id"):
            await verifier.verify(TestSigner().token())
    assert len(seen) == 2
    await verifier.verify(new.token())  # that request brought the new key
    await verifier.verify(old.token())  # tokens signed before the rotation still count
    assert len(seen) == 2


async def test_remote_keys_drop_a_retired_key_after_max_age() -> None:
    old, new = TestSigner(), TestSigner()
    documents = [jwks([new.key.public_key(), old.key.public_key()])]
    http, _ = _jwks_server(documents)
    clock = Clock()
    keys = RemoteKeySet("http://i/j", http, max_age_s=300, min_refetch_s=1, clock=clock)
    verifier = TokenVerifier(keys, "rollsync-ingest", "rollsync")
    await verifier.verify(old.token())
    documents.append(jwks([new.key.public_key()]))
    clock.now += 301
    with pytest.raises(TokenError, match="unknown key id"):
        await verifier.verify(old.token())
    await verifier.verify(new.token())


async def test_no_keys_at_all_is_unavailable_not_invalid() -> None:
    def down(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    keys = RemoteKeySet("http://i/j", httpx.AsyncClient(transport=httpx.MockTransport(down)))
    with pytest.raises(KeysUnavailableError):
        await TokenVerifier(keys, "rollsync-ingest", "rollsync").verify(TestSigner().token())


async def test_revoked_versions_and_disabled_clients_are_refused_and_a_stale_list_fails_closed() -> None:
    listing = {
        "clients": [
            {"client_id": "rotated", "min_version": 3, "disabled": False},
            {"client_id": "off", "min_version": 2, "disabled": True},
        ]
    }
    up = [True]

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=listing) if up[0] else httpx.Response(503)

    clock = Clock()
    poller = RevocationPoller(
        "http://i/internal/token-revocations",
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        max_stale_s=60,
        clock=clock,
    )
    signer = TestSigner()
    verifier = TokenVerifier(signer.verifier().keys, "rollsync-ingest", "rollsync", poller)
    with pytest.raises(RevocationsUnavailableError):  # never read: no token can be trusted
        await verifier.verify(signer.token())
    assert await poller.poll_once()
    await verifier.verify(signer.token("rotated", ver=3))
    await verifier.verify(signer.token("unlisted", ver=1))
    with pytest.raises(TokenError, match="revoked"):
        await verifier.verify(signer.token("rotated", ver=2))
    with pytest.raises(TokenError, match="disabled"):
        await verifier.verify(signer.token("off", ver=5))
    up[0] = False
    assert not await poller.poll_once()
    clock.now += 59
    await verifier.verify(signer.token("unlisted"))  # a short outage of ingest: the last list holds
    clock.now += 2
    with pytest.raises(RevocationsUnavailableError):
        await verifier.verify(signer.token("unlisted"))


class _CountingDecode:
    """jwt.decode, counted: how many tokens had their signature checked."""

    def __init__(self) -> None:
        self.calls = 0
        self._decode = jwt.decode

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._decode(*args, **kwargs)


async def test_a_verified_token_is_not_checked_again_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = TestSigner()
    decode = _CountingDecode()
    monkeypatch.setattr("common.bearer.jwt.decode", decode)
    clock = Clock()
    clock.now = time.time()
    verifier = TokenVerifier(signer.verifier().keys, "rollsync-ingest", "rollsync", clock=clock)
    token = signer.token("c1", "sync:read", exp=int(clock.now) + 60)
    for _ in range(5):
        assert await verifier.verify(token) == TokenClaims("c1", frozenset({"sync:read"}), 1)
    assert decode.calls == 1
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(TokenError):  # another string: checked, never taken for the remembered one
        await verifier.verify(tampered)
    clock.now = int(clock.now) + 60 + LEEWAY_S  # past exp + leeway: refused as a fresh check refuses it
    with pytest.raises(TokenError, match="expired"):
        await verifier.verify(token)


async def test_a_remembered_token_is_still_refused_once_revoked() -> None:
    listing: dict[str, Any] = {"clients": []}

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=listing)

    poller = RevocationPoller("http://i/r", httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    signer = TestSigner()
    verifier = TokenVerifier(signer.verifier().keys, "rollsync-ingest", "rollsync", poller)
    assert await poller.poll_once()
    token = signer.token("rotated", ver=1)
    await verifier.verify(token)
    listing["clients"] = [{"client_id": "rotated", "min_version": 2, "disabled": False}]
    assert await poller.poll_once()
    with pytest.raises(TokenError, match="revoked"):
        await verifier.verify(token)


async def test_a_remembered_token_whose_key_was_retired_is_refused() -> None:
    old, new = TestSigner(), TestSigner()
    documents = [jwks([new.key.public_key(), old.key.public_key()])]
    http, _ = _jwks_server(documents)
    clock = Clock()
    keys = RemoteKeySet("http://i/j", http, max_age_s=300, min_refetch_s=1, clock=clock)
    verifier = TokenVerifier(keys, "rollsync-ingest", "rollsync")
    token = old.token()
    await verifier.verify(token)
    documents.append(jwks([new.key.public_key()]))
    clock.now += 301
    with pytest.raises(TokenError, match="unknown key id"):
        await verifier.verify(token)


async def test_the_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("common.bearer.VERIFIED_TOKENS_KEPT", 3)
    decode = _CountingDecode()
    monkeypatch.setattr("common.bearer.jwt.decode", decode)
    signer = TestSigner()
    verifier = signer.verifier()
    tokens = [signer.token(f"c{i}") for i in range(5)]
    for token in tokens:
        await verifier.verify(token)
    await verifier.verify(tokens[-1])  # among the three kept
    assert decode.calls == 5
    await verifier.verify(tokens[0])  # forgotten: checked again
    assert decode.calls == 6


def test_the_revocation_list_sits_beside_the_jwks() -> None:
    assert revocations_url("http://ingest:8101/.well-known/jwks.json") == (
        "http://ingest:8101/internal/token-revocations"
    )


async def _answer(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/thing", headers=headers)


async def test_routes_declare_bearer_security_with_their_scope_and_answer_rfc_6750() -> None:
    signer = TestSigner()

    @asynccontextmanager
    async def no_lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = base_app("t", Metrics("t"), no_lifespan)

    class Ctx:
        tokens = signer.verifier()

    app.state.ctx = Ctx()

    @app.get("/thing")
    async def thing(claims: Annotated[TokenClaims, require_scope("sync:read")]) -> dict[str, str]:
        return {"client": claims.client_id}

    document = app.openapi()
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert document["paths"]["/thing"]["get"]["security"] == [
        {"bearerAuth": ["sync:read"]},
        {"bearerAuth": ["admin"]},
    ]
    ok = await _answer(app, signer.bearer("sync:read"))
    assert (ok.status_code, ok.json()) == (200, {"client": "ops"})
    assert (await _answer(app, signer.bearer("admin"))).status_code == 200
    missing = await _answer(app, {})
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, 'Bearer realm="rollsync"')
    bad = await _answer(app, {"Authorization": f"Bearer {signer.hostile_alg_none()}"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="rollsync", error="invalid_token"'
    denied = await _answer(app, signer.bearer("customers:read"))
    assert denied.status_code == 403
    assert 'error="insufficient_scope", scope="sync:read"' in denied.headers["www-authenticate"]


async def test_remote_verifier_reports_the_age_of_its_revocation_list() -> None:
    metrics = Metrics("t")
    settings = TokenVerifierSettingsMixin(token_jwks_url="http://127.0.0.1:9/.well-known/jwks.json")
    verifier = remote_verifier(settings, metrics)
    assert verifier.revocations is not None
    assert verifier.revocations.url == "http://127.0.0.1:9/internal/token-revocations"
    await metrics.refresh()
    assert metrics.registry.get_sample_value("rollsync_token_revocations_age_seconds") == 1e9  # never read
    await verifier.close()
