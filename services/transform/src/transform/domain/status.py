"""The per-process status vocabulary and which status changes are possible (DOMAIN.md §3)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache

from transform.domain.normalize import normalize_text


class ProcessStatus(StrEnum):
    NOT_STARTED = "未开始"
    IN_PROGRESS = "进行中"
    DONE = "已完成"
    PAUSED = "暂停"
    REWORK = "返工"
    AWAITING_INSPECTION = "待检"
    SCRAPPED = "报废"


# Words seen on the shop floor for each status. Ambiguous marks ("√", "OK", "作废") are left
# out on purpose: they come back as unknown and the caller reports them.
_SYNONYMS: Mapping[ProcessStatus, tuple[str, ...]] = {
    ProcessStatus.NOT_STARTED: ("未开工", "待开始", "待加工", "待生产", "未进行", "not started", "todo"),
    ProcessStatus.IN_PROGRESS: (
        *("开始", "已开始", "加工中", "生产中", "进行", "在制", "在做"),
        *("in progress", "started", "doing", "wip"),
    ),
    ProcessStatus.DONE: ("完成", "完工", "已完工", "已完", "done", "finished", "complete", "completed"),
    ProcessStatus.PAUSED: ("停止", "暂停中", "已暂停", "停工", "挂起", "paused", "on hold", "hold"),
    ProcessStatus.REWORK: ("重做", "返修", "返工中", "rework"),
    ProcessStatus.AWAITING_INSPECTION: ("待检验", "待检测", "送检", "awaiting inspection"),
    ProcessStatus.SCRAPPED: ("已报废", "scrapped", "scrap"),
}

# Every status may also stay as it is or go to 报废; 报废 itself is final.
_NEXT: Mapping[ProcessStatus, frozenset[ProcessStatus]] = {
    ProcessStatus.NOT_STARTED: frozenset({ProcessStatus.IN_PROGRESS}),
    ProcessStatus.IN_PROGRESS: frozenset(
        {
            ProcessStatus.DONE,
            ProcessStatus.PAUSED,
            ProcessStatus.REWORK,
            ProcessStatus.AWAITING_INSPECTION,
        }
    ),
    ProcessStatus.PAUSED: frozenset({ProcessStatus.IN_PROGRESS}),
    ProcessStatus.AWAITING_INSPECTION: frozenset({ProcessStatus.DONE, ProcessStatus.REWORK}),
    ProcessStatus.DONE: frozenset({ProcessStatus.REWORK}),
    ProcessStatus.REWORK: frozenset({ProcessStatus.IN_PROGRESS}),
    ProcessStatus.SCRAPPED: frozenset(),
}


class TransitionError(ValueError):
    """A progress report that asks for a status change the shop floor cannot make."""

    def __init__(self, old: ProcessStatus | None, new: ProcessStatus) -> None:
        start = _start(old)
        allowed = "、".join(status for status in ProcessStatus if status in allowed_next(old))
        super().__init__(
            f"工序状态不能从 {start} 变为 {new}（允许: {allowed}）"
            f" / a step cannot go from {start} to {new} (allowed: {allowed})"
        )
        self.old = old
        self.new = new


def _key(word: str) -> str:
    return (normalize_text(word) or "").casefold()


_LOOKUP: Mapping[str, ProcessStatus] = {
    _key(word): status for status in ProcessStatus for word in (status.value, *_SYNONYMS[status])
}


@lru_cache(maxsize=1024)  # a handful of words, parsed for every process of every line (bench G3 profile)
def parse_status(word: str) -> ProcessStatus | None:
    """The status a word means, or None when the word is not in the vocabulary."""
    return _LOOKUP.get(_key(word))


def _start(old: ProcessStatus | None) -> ProcessStatus:
    # A step without a status yet has simply not been started.
    return ProcessStatus.NOT_STARTED if old is None else old


def allowed_next(old: ProcessStatus | None) -> frozenset[ProcessStatus]:
    """Every status a step in `old` may be reported with next, including staying put."""
    start = _start(old)
    if start is ProcessStatus.SCRAPPED:
        return frozenset({start})
    return _NEXT[start] | {start, ProcessStatus.SCRAPPED}


def can_transition(old: ProcessStatus | None, new: ProcessStatus) -> bool:
    return new in allowed_next(old)


def check_transition(old: ProcessStatus | None, new: ProcessStatus) -> None:
    """Raise TransitionError, with the reason, when `old` → `new` is impossible."""
    if not can_transition(old, new):
        raise TransitionError(old, new)
