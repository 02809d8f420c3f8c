"""The client tool's handlers on fakes: secrets stored hashed, weak chosen secrets and unknown scopes refused
before anything is written, disable and rotate raise the token version."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.domain.clients import hash_secret, new_secret
from ingest.service_layer import clients
from ingest.service_layer.clients import CreateClient, WeakSecretError
from tests.ingest.fakes import FakeIngestUnitOfWork


def _create(client_id: str, *, secret: str = "", scopes: str = "contracts:write, sync:read") -> CreateClient:
    chosen = bool(secret)
    return CreateClient(
        client_id,
        "Factory",
        secret or new_secret(),
        scopes,
        per_minute=60,
        per_day=10_000,
        rows_per_day=25_000,
        if_missing=False,
        chosen_secret=chosen,
    )


async def test_create_stores_the_hash_and_if_missing_leaves_an_existing_client() -> None:
    uow = FakeIngestUnitOfWork()
    cmd = _create("agent")
    assert await clients.create_client(uow.factory, cmd) is True
    stored = uow.store.clients["agent"]
    assert stored.secret_hash == hash_secret(cmd.secret) and cmd.secret not in stored.secret_hash
    assert stored.scopes == {"contracts:write", "sync:read"}
    again = replace(cmd, secret=new_secret(), if_missing=True)
    assert await clients.create_client(uow.factory, again) is False
    assert uow.store.clients["agent"].secret_hash == hash_secret(cmd.secret)
    [listed] = await clients.list_clients(uow.factory)
    assert (listed.client_id, listed.scopes, listed.rows_per_day) == (
        "agent",
        ("contracts:write", "sync:read"),
        25_000,
    )


async def test_weak_chosen_secrets_and_unknown_scopes_write_nothing() -> None:
    uow = FakeIngestUnitOfWork()
    with pytest.raises(WeakSecretError):
        await clients.create_client(uow.factory, _create("agent", secret="password123"))
    with pytest.raises(ValueError, match="unknown scopes"):
        await clients.create_client(uow.factory, _create("agent", scopes="contracts:write,everything"))
    assert not uow.store.clients and uow.committed == 0


async def test_disable_and_rotate_raise_the_version_enable_does_not() -> None:
    uow = FakeIngestUnitOfWork()
    await clients.create_client(uow.factory, _create("agent"))
    assert await clients.set_disabled(uow.factory, "agent", True)
    assert await clients.set_disabled(uow.factory, "agent", False)
    assert uow.store.clients["agent"].token_version == 2
    assert await clients.rotate_secret(uow.factory, "agent", "next-secret")
    assert uow.store.clients["agent"].token_version == 3
    assert uow.store.clients["agent"].secret_hash == hash_secret("next-secret")
    assert not await clients.rotate_secret(uow.factory, "nobody", "x")


async def test_rows_per_day_must_be_positive() -> None:
    uow = FakeIngestUnitOfWork()
    await clients.create_client(uow.factory, _create("agent"))
    with pytest.raises(ValueError, match="at least 1"):
        await clients.set_rows_per_day(uow.factory, "agent", 0)
    assert await clients.set_rows_per_day(uow.factory, "agent", 40_000)
    assert uow.store.rows_per_day["agent"] == 40_000
