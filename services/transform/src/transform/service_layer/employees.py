"""ingest's employee list, kept in transform from its events, and "my queue" (what an employee may report)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from common.events.ingest import EmployeeChanged
    from transform.domain.routes import ProcessCatalog
    from transform.service_layer.ports import UnitOfWork, UowFactory


class EmployeeQueueError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def apply_employees(uow: UnitOfWork, events: list[EmployeeChanged]) -> None:
    """Newest version per number in the batch; the table's version guard absorbs duplicates and reordering."""
    newest: dict[str, EmployeeChanged] = {}  # a batch may hold several versions of one employee
    for e in events:
        if e.number not in newest or e.version > newest[e.number].version:
            newest[e.number] = e
    await uow.employees.keep_newer(list(newest.values()))
    await uow.commit()


async def queue_processes(start: UowFactory, number: str, catalog: ProcessCatalog) -> list[str]:
    """The processes an active employee may report, by the catalogue's names (aliases resolved)."""
    async with start() as uow:
        employee = await uow.employees.find(number)
    if employee is None:
        raise EmployeeQueueError(
            404, "employee_not_found", f"工号 {number} 不在员工名单中 / not on the employee list"
        )
    if not employee.active:
        raise EmployeeQueueError(
            409, "employee_inactive", f"工号 {number} 已停用 / employee {number} is inactive"
        )
    return sorted({catalog.canonical(p) for p in employee.processes})
