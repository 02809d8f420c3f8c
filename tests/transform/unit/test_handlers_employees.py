"""Employees and "my queue" on fakes."""

from __future__ import annotations

import pytest

from tests.transform.fakes import FakeTransformUnitOfWork, employee_event
from transform.domain.routes import DEFAULT_CATALOG, DEFAULT_ROUTES, DEFAULT_TYPE_RULES, catalog_from_rows
from transform.service_layer.employees import EmployeeQueueError, apply_employees, queue_processes


async def test_the_newest_version_of_each_employee_in_a_batch_is_kept_and_committed() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_employees(
        uow,
        [employee_event("E1", 2, ["喷砂"]), employee_event("E1", 1, ["抛光"]), employee_event("E2", 1, [])],
    )

    assert uow.committed == 1
    assert uow.employees.rows["E1"].processes == ["喷砂"]
    assert set(uow.employees.rows) == {"E1", "E2"}


async def test_my_queue_lists_an_active_employees_processes_by_the_catalogues_names() -> None:
    uow = FakeTransformUnitOfWork()
    await apply_employees(uow, [employee_event("E1", 1, ["抛光", "喷沙", "喷砂"])])
    catalog = catalog_from_rows(
        DEFAULT_ROUTES, DEFAULT_TYPE_RULES, DEFAULT_CATALOG.default_type, process_names=[("喷沙", "喷砂")]
    )

    assert await queue_processes(uow.start, "E1", catalog) == ["喷砂", "抛光"]
    assert uow.begun == 1


@pytest.mark.parametrize(
    ("number", "status", "code"), [("E9", 404, "employee_not_found"), ("E2", 409, "employee_inactive")]
)
async def test_my_queue_refuses_an_unknown_or_inactive_employee(number: str, status: int, code: str) -> None:
    uow = FakeTransformUnitOfWork()
    await apply_employees(uow, [employee_event("E2", 1, ["喷砂"], active=False)])

    with pytest.raises(EmployeeQueueError) as caught:
        await queue_processes(uow.start, number, DEFAULT_CATALOG)
    assert (caught.value.status, caught.value.code) == (status, code)
