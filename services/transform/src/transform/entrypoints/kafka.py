"""transform's subscribers: decode the envelope, call one handler, nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from common.delivery import Delivery, PermanentError
from common.events.envelope import Envelope
from common.events.ingest import EmployeeChanged, HetongRowChanged, ProgressReported
from transform.service_layer.employees import apply_employees
from transform.service_layer.lines import LineChange, apply_lines
from transform.service_layer.ordering import lock_before_first_write
from transform.service_layer.progress import ReportChange, apply_reports

if TYPE_CHECKING:
    import asyncpg

    from transform.service_layer.configuration import ConfigurationCache
    from transform.service_layer.ports import Locks, UnitOfWork

P = TypeVar("P", bound=BaseModel)


def decode(delivery: Delivery, model: type[P]) -> Envelope[P]:
    try:
        return Envelope[model].model_validate(orjson.loads(delivery.value))  # type: ignore[valid-type]
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise PermanentError(f"undecodable {model.__name__}: {str(exc)[:300]}") from exc


Apply = Callable[["asyncpg.Connection", list[Delivery]], Awaitable[None]]
UowOn = Callable[["asyncpg.Connection"], "UnitOfWork"]
"""The unit of work joined to the consumer's transaction (bootstrap.uow_on)."""
LocksOn = Callable[["asyncpg.Connection"], "Locks"]


def on_hetong_row_changed(config: ConfigurationCache, uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        changes = [
            LineChange(e.payload, e.correlation_id) for e in (decode(d, HetongRowChanged) for d in batch)
        ]
        async with uow_on(conn) as uow:
            await apply_lines(uow, changes, await config.get(uow))

    return apply


def on_progress_reported(config: ConfigurationCache, uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        changes = [
            ReportChange(e.payload, e.occurred_at) for e in (decode(d, ProgressReported) for d in batch)
        ]
        async with uow_on(conn) as uow:
            await apply_reports(uow, changes, await config.get(uow))

    return apply


def on_employee_changed(uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        async with uow_on(conn) as uow:
            await apply_employees(uow, [decode(d, EmployeeChanged).payload for d in batch])

    return apply


def contracts_locked_first(
    model: type[HetongRowChanged] | type[ProgressReported], locks_on: LocksOn
) -> Apply:
    """The consumer's `before_inbox` hook: lock the batch's contracts before its inbox row (service_layer.ordering).
    An undecodable message locks nothing here; `apply` dead-letters it."""

    async def lock_first(conn: asyncpg.Connection, batch: list[Delivery]) -> None:
        contracts = set()
        for d in batch:
            try:
                contracts.add(decode(d, model).payload.contract_no)
            except PermanentError:
                continue
        await lock_before_first_write(locks_on(conn), contracts)

    return lock_first


__all__: list[Any] = [
    "contracts_locked_first",
    "on_employee_changed",
    "on_hetong_row_changed",
    "on_progress_reported",
]
