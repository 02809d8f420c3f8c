"""transform's subscribers: typed events in (the inbox consumer decodes them), one handler called, nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from transform.service_layer.employees import apply_employees
from transform.service_layer.lines import LineChange, apply_lines
from transform.service_layer.ordering import lock_before_first_write
from transform.service_layer.progress import ReportChange, apply_reports

if TYPE_CHECKING:
    import asyncpg

    from common.events.ingest import EmployeeChanged, HetongRowChanged, ProgressReported
    from common.received import Received
    from transform.service_layer.configuration import ConfigurationCache
    from transform.service_layer.ports import Locks, UnitOfWork

Apply = Callable[["asyncpg.Connection", list[Any]], Awaitable[None]]
UowOn = Callable[["asyncpg.Connection"], "UnitOfWork"]
"""The unit of work joined to the consumer's transaction (bootstrap.uow_on)."""
LocksOn = Callable[["asyncpg.Connection"], "Locks"]


def on_hetong_row_changed(config: ConfigurationCache, uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[HetongRowChanged]]) -> None:
        changes = [LineChange(r.payload, r.envelope.correlation_id) for r in batch]
        async with uow_on(conn) as uow:
            await apply_lines(uow, changes, await config.get(uow))

    return apply


def on_progress_reported(config: ConfigurationCache, uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[ProgressReported]]) -> None:
        changes = [ReportChange(r.payload, r.envelope.occurred_at) for r in batch]
        async with uow_on(conn) as uow:
            await apply_reports(uow, changes, await config.get(uow))

    return apply


def on_employee_changed(uow_on: UowOn) -> Apply:
    async def apply(conn: asyncpg.Connection, batch: list[Received[EmployeeChanged]]) -> None:
        async with uow_on(conn) as uow:
            await apply_employees(uow, [r.payload for r in batch])

    return apply


def contracts_locked_first(locks_on: LocksOn) -> Apply:
    """The consumer's `before_inbox` hook: lock the batch's contracts before its inbox row (service_layer.ordering).
    Undecodable messages never get here: the consumer dead-lettered them before the transaction."""

    async def lock_first(
        conn: asyncpg.Connection, batch: list[Received[HetongRowChanged]] | list[Received[ProgressReported]]
    ) -> None:
        await lock_before_first_write(locks_on(conn), {r.payload.contract_no for r in batch})

    return lock_first


__all__: list[Any] = [
    "contracts_locked_first",
    "on_employee_changed",
    "on_hetong_row_changed",
    "on_progress_reported",
]
