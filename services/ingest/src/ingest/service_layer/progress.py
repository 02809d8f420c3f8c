"""Record a progress report and emit one event per process, guarded by a version check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from common import topics
from common.events.envelope import Envelope
from common.events.ingest import ProgressReported
from ingest.domain.lines import CONTRACT_NO
from ingest.domain.processes import ProcessNames
from ingest.service_layer.errors import ContractNotFoundError, ProgressConflictError, UnknownProcessError
from ingest.service_layer.events import SOURCE
from ingest.service_layer.idempotency import IdempotentRequest, remember, stored_answer

if TYPE_CHECKING:
    from ingest.domain.progress import ProcessUpdate, ProgressReport
    from ingest.service_layer.ports import UnitOfWork, UowFactory


async def _check_target(uow: UnitOfWork, report: ProgressReport) -> ProgressReport:
    """The report with each process under the catalogue's name; raises when the contract or a process is unknown."""
    found = await uow.lines.contract_processes(report.contract_no)
    if found is None:
        raise ContractNotFoundError(
            f"合同 {report.contract_no} 不存在 / contract {report.contract_no} not found"
        )
    product_ids, columns = found
    if report.product_id is not None and report.product_id not in product_ids:
        raise ContractNotFoundError(
            f"合同 {report.contract_no} 没有产品 {report.product_id} / no such product line"
        )
    names = ProcessNames(await uow.processes.known(), columns)
    resolved = [(u, names.resolve(u.process)) for u in report.updates]
    unknown = [u.process for u, name in resolved if name is None]
    if unknown:
        raise UnknownProcessError(f"未知工序 {', '.join(unknown)} / unknown process")
    updates = tuple(replace(u, process=name) for u, name in resolved if name is not None)
    if len({u.process for u in updates}) != len(updates):
        raise UnknownProcessError(
            "同一工序在请求中出现两次（别名） / one process is named twice (by an alias)",
            code="duplicate_process",
        )
    return replace(report, updates=updates)


async def _apply(
    uow: UnitOfWork,
    report: ProgressReport,
    update: ProcessUpdate,
    client_id: str,
    correlation_id: str,
) -> int:
    product = report.product_id or ""
    current = await uow.progress.lock(report.contract_no, product, update.process)
    received_at = datetime.now(UTC)  # after the lock: receive times follow the versions handed out
    if current and report.expected_version is not None and current.version != report.expected_version:
        raise ProgressConflictError(
            f"{update.process} 当前版本 {current.version}，请求基于 {report.expected_version}"
            f" / version is {current.version}, request expected {report.expected_version}"
        )
    if current and report.update_time < current.update_time:
        raise ProgressConflictError(
            f"{update.process} 已有更新的汇报 ({current.update_time.isoformat()}) / a newer report exists",
            code="stale_update",
        )
    version = await uow.progress.save(
        report.contract_no,
        product,
        update.process,
        update.status,
        report.updated_by,
        report.update_time,
    )
    # Seed 000: a reporter who is not an active employee is accepted, but the stored state says so.
    flag = await uow.employees.reporter_flag(report.updated_by)
    await uow.progress.flag_reporter(report.contract_no, product, update.process, flag)
    event = ProgressReported(
        contract_no=report.contract_no,
        product_id=report.product_id,
        process=update.process,
        status=update.status,
        version=version,
        updated_by=report.updated_by,
        update_time=report.update_time,
        client_id=client_id,
        received_at=received_at,
        reporter_flag=flag,
    )
    envelope = Envelope[ProgressReported](
        event_type="ProgressReported", source=SOURCE, correlation_id=correlation_id, payload=event
    )
    uow.outbox.add(topics.INGEST_PROGRESS_REPORTED, report.contract_no, envelope)
    return version


def _answer(report: ProgressReport, versions: list[int]) -> bytes:
    body: dict[str, Any] = {
        CONTRACT_NO: report.contract_no,
        "updates": [
            {"process": u.process, "status": u.status, "version": v}
            for u, v in zip(report.updates, versions, strict=True)
        ],
    }
    return orjson.dumps(body)


async def report_progress(
    uow_factory: UowFactory,
    report: ProgressReport,
    client_id: str,
    correlation_id: str,
    idempotency: IdempotentRequest | None = None,
) -> bytes:
    """The JSON answer; with an Idempotency-Key a retry gets the first answer and changes nothing."""
    async with uow_factory() as uow:
        if idempotency and (stored := await stored_answer(uow.idempotency, idempotency)) is not None:
            return stored
        report = await _check_target(uow, report)  # processes under the names they are stored by
        versions = [await _apply(uow, report, u, client_id, correlation_id) for u in report.updates]
        body = _answer(report, versions)
        if idempotency:
            await remember(uow.idempotency, idempotency, body)
        await uow.commit()
    return body
