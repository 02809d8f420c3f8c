"""rules' subscribers: typed events in (the inbox consumer decodes them, NUL characters dropped), one handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from rules.service_layer.candidates import link_contracts
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Deps, Trigger
from rules.service_layer.push_results import Completed, apply_push_results

if TYPE_CHECKING:
    import asyncpg

    from common.events.customers import CustomerPushCompleted, ErpCustomerPulled, WechatCustomerCaptured
    from common.events.transform import ContractStandardized
    from common.received import Received
    from rules.service_layer.ports import UnitOfWork

Apply = Callable[["asyncpg.Connection", list[Any]], Awaitable[None]]
# The unit of work inside the inbox consumer's transaction (bootstrap.uow_on): the consumer commits it
JoinedUow = Callable[["asyncpg.Connection"], AbstractAsyncContextManager["UnitOfWork"]]
# PostgreSQL text cannot hold U+0000: rules' subscriptions drop it rather than dead-letter the event for it.
DROP_NUL = True


def _trigger(received: Received[Any], name: str) -> Trigger:
    return Trigger(name, received.envelope.event_id, received.envelope.correlation_id)


def on_contract_standardized(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[ContractStandardized]]) -> None:
        trigger = Trigger("contract", None, batch[0].envelope.correlation_id if batch else "")
        async with uow_on(conn) as uow:
            await link_contracts(uow, [r.payload for r in batch], deps, trigger)

    return apply


def on_wechat_customer_captured(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[WechatCustomerCaptured]]) -> None:
        items = [Captured(r.payload, _trigger(r, "wechat_capture")) for r in batch]
        async with uow_on(conn) as uow:
            await apply_captures(uow, items, deps)

    return apply


def on_erp_customer_pulled(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[ErpCustomerPulled]]) -> None:
        items = [Pulled(r.payload, _trigger(r, "erp_pull")) for r in batch]
        async with uow_on(conn) as uow:
            await apply_pulls(uow, items, deps)

    return apply


def on_customer_push_completed(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[CustomerPushCompleted]]) -> None:
        items = [Completed(r.payload, _trigger(r, "push_result")) for r in batch]
        async with uow_on(conn) as uow:
            await apply_push_results(uow, items, deps)

    return apply
