"""Managing system clients (the operator's command-line tool): secrets are returned once, stored hashed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.domain.clients import SCOPES, hash_secret, unknown_scopes, weak_secret_reason
from ingest.service_layer.ports import NewClient

if TYPE_CHECKING:
    from ingest.service_layer.ports import ClientListing, UowFactory


@dataclass(frozen=True, slots=True)
class CreateClient:
    client_id: str
    name: str
    secret: str
    scopes: str  # comma-separated
    per_minute: int
    per_day: int
    rows_per_day: int
    if_missing: bool
    chosen_secret: bool  # the operator's own secret (checked for strength), not a random one


class WeakSecretError(ValueError):
    pass


async def create_client(uow_factory: UowFactory, cmd: CreateClient) -> bool:
    """False when `if_missing` and the client exists; ValueError for a weak chosen secret or unknown scopes."""
    if cmd.chosen_secret and (reason := weak_secret_reason(cmd.secret)):
        raise WeakSecretError(reason)
    scopes = {s.strip() for s in cmd.scopes.split(",") if s.strip()}
    if unknown := unknown_scopes(scopes):
        raise ValueError(f"unknown scopes {sorted(unknown)}; allowed {sorted(SCOPES)}")
    client = NewClient(
        cmd.client_id,
        cmd.name,
        hash_secret(cmd.secret),
        sorted(scopes),
        cmd.per_minute,
        cmd.per_day,
        cmd.rows_per_day,
    )
    async with uow_factory() as uow:
        created = await uow.clients.create(client, if_missing=cmd.if_missing)
        await uow.commit()
    return created


async def list_clients(uow_factory: UowFactory) -> list[ClientListing]:
    async with uow_factory() as uow:  # read only: nothing to commit
        return await uow.clients.listing()


async def set_disabled(uow_factory: UowFactory, client_id: str, disabled: bool) -> bool:
    """Disabling raises the token version too (trigger `clients_revoke_tokens`): its tokens stop working."""
    async with uow_factory() as uow:
        found = await uow.clients.set_disabled(client_id, disabled)
        await uow.commit()
    return found


async def rotate_secret(uow_factory: UowFactory, client_id: str, secret: str) -> bool:
    async with uow_factory() as uow:
        found = await uow.clients.rotate(client_id, hash_secret(secret))
        await uow.commit()
    return found


async def set_rows_per_day(uow_factory: UowFactory, client_id: str, rows_per_day: int) -> bool:
    if rows_per_day < 1:
        raise ValueError("rows_per_day must be at least 1")
    async with uow_factory() as uow:
        found = await uow.clients.set_rows_per_day(client_id, rows_per_day)
        await uow.commit()
    return found
