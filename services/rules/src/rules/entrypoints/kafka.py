"""rules' subscribers: decode the envelope, call one handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from common.delivery import Delivery, PermanentError
from common.events.customers import CustomerPushCompleted, ErpCustomerPulled, WechatCustomerCaptured
from common.events.envelope import Envelope
from common.events.transform import ContractStandardized
from rules.service_layer.candidates import link_contracts
from rules.service_layer.customers import Captured, Pulled, apply_captures, apply_pulls
from rules.service_layer.decisions import Deps, Trigger
from rules.service_layer.push_results import Completed, apply_push_results

if TYPE_CHECKING:
    import asyncpg

    from rules.service_layer.ports import UnitOfWork

P = TypeVar("P", bound=BaseModel)
Apply = Callable[["asyncpg.Connection", list[Delivery]], Awaitable[None]]
# The unit of work inside the inbox consumer's transaction (bootstrap.uow_on): the consumer commits it
JoinedUow = Callable[["asyncpg.Connection"], AbstractAsyncContextManager["UnitOfWork"]]


def _without_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold U+0000: drop it everywhere rather than fail the event forever."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def decode(delivery: Delivery, model: type[P]) -> tuple[P, Trigger]:
    try:
        data = _without_nul(orjson.loads(delivery.value))
        envelope = Envelope[model].model_validate(data)  # type: ignore[valid-type]
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise PermanentError(f"undecodable {model.__name__}: {str(exc)[:300]}") from exc
    return envelope.payload, Trigger("", envelope.event_id, envelope.correlation_id)


def _as(trigger: Trigger, name: str) -> Trigger:
    return Trigger(name, trigger.event_id, trigger.correlation_id)


def on_contract_standardized(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        decoded = [decode(d, ContractStandardized) for d in batch]
        first = decoded[0][1] if decoded else Trigger("", None, "")
        trigger = Trigger("contract", None, first.correlation_id)
        async with uow_on(conn) as uow:
            await link_contracts(uow, [event for event, _ in decoded], deps, trigger)

    return apply


def on_wechat_customer_captured(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        items = [
            Captured(e, _as(t, "wechat_capture"))
            for e, t in (decode(d, WechatCustomerCaptured) for d in batch)
        ]
        async with uow_on(conn) as uow:
            await apply_captures(uow, items, deps)

    return apply


def on_erp_customer_pulled(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        items = [Pulled(e, _as(t, "erp_pull")) for e, t in (decode(d, ErpCustomerPulled) for d in batch)]
        async with uow_on(conn) as uow:
            await apply_pulls(uow, items, deps)

    return apply


def on_customer_push_completed(deps: Deps, uow_on: JoinedUow) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        items = [
            Completed(e, _as(t, "push_result")) for e, t in (decode(d, CustomerPushCompleted) for d in batch)
        ]
        async with uow_on(conn) as uow:
            await apply_push_results(uow, items, deps)

    return apply
