"""A progress report from the mini-program (seed 000: {<processName>: <status>, updated_by, update_time})."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.domain.lines import PRODUCT_ID, normalize_key

STATUSES = ("未开始", "进行中", "已完成", "暂停", "返工", "待检", "报废")
_META = frozenset({"updated_by", "update_time", PRODUCT_ID, "expected_version"})
MAX_PROCESSES_PER_REPORT = 20
DEFAULT_MAX_SKEW = timedelta(minutes=5)


class ReportError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ProcessUpdate:
    process: str
    status: str


@dataclass(frozen=True, slots=True)
class ProgressReport:
    contract_no: str
    product_id: str | None
    updates: tuple[ProcessUpdate, ...]
    updated_by: str
    update_time: datetime
    expected_version: int | None


def _not_ahead(at: datetime, now: datetime, max_skew: timedelta) -> datetime:
    """A phone whose clock runs ahead would lock the process (every later report is older) and beat uploads."""
    if at > now + max_skew:
        limit = int(max_skew.total_seconds())
        raise ReportError(
            "update_time_in_future",
            f"update_time {at.isoformat()} 比服务器时间快 {limit} 秒以上，请校准设备时钟或省略 update_time"
            f" / update_time is more than {limit}s ahead of the server clock; fix the device clock or omit it",
        )
    return at


def _time(value: object) -> datetime:
    if not isinstance(value, str):
        raise ReportError(
            "invalid_update_time", "update_time 必须是 ISO-8601 时间 / must be an ISO-8601 time"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReportError(
            "invalid_update_time", f"update_time 无法解析 / cannot parse: {value[:40]}"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _updates(body: dict[str, Any]) -> tuple[ProcessUpdate, ...]:
    updates = []
    for key, value in body.items():
        if key in _META:
            continue
        status = normalize_key(value) if isinstance(value, str) else ""
        if status not in STATUSES:
            raise ReportError(
                "unknown_status",
                f"工序 {key} 的状态 {str(value)[:20]!r} 无效，可用: {'/'.join(STATUSES)} / unknown status",
            )
        updates.append(ProcessUpdate(normalize_key(key), status))
    if not updates:
        raise ReportError("no_process", "请求中没有工序状态 / body names no process")
    if len(updates) > MAX_PROCESSES_PER_REPORT:
        raise ReportError(
            "too_many_processes", f"最多 {MAX_PROCESSES_PER_REPORT} 个工序 / too many processes"
        )
    return tuple(updates)


def parse_report(
    contract_no: str, body: object, *, now: datetime | None = None, max_skew: timedelta = DEFAULT_MAX_SKEW
) -> ProgressReport:
    if not isinstance(body, dict):
        raise ReportError("invalid_request", "请求体必须是 JSON 对象 / body must be a JSON object")
    by = body.get("updated_by")
    if not isinstance(by, str) or not normalize_key(by) or len(by) > 64:
        raise ReportError(
            "invalid_updated_by", "updated_by 必须是 1-64 字符的文本 / updated_by is required text"
        )
    version = body.get("expected_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 0):
        raise ReportError("invalid_expected_version", "expected_version 必须是非负整数 / must be an integer")
    product = body.get(PRODUCT_ID)
    now = now or datetime.now(UTC)
    return ProgressReport(
        contract_no=normalize_key(contract_no),
        product_id=normalize_key(product) or None if product is not None else None,
        updates=_updates(body),
        updated_by=normalize_key(by),
        update_time=_not_ahead(_time(body.get("update_time", now.isoformat())), now, max_skew),
        expected_version=version,
    )
