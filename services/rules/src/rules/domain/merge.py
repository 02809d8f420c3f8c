"""Merge one observation (an ERP pull, a WeChat capture, a push read-back) into a customer's fields. Pure.

Empty values ("", "None", null) are no opinion, except in a complete ERP record, where they say the ERP
holds nothing. Every visible change, and every conflict the policy settled, becomes a `Change`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from rules.domain.fields import CATALOG, DEFAULT_POLICY, ERP_FIELDS, Strategy, clean
from rules.domain.provenance import EMPTY, Side, Slot, observe_erp, observe_local
from rules.domain.resolution import settle

Fields = Mapping[str, Slot]
ChangeType = Literal["fill", "update", "conflict", "merge", "verify"]


@dataclass(frozen=True, slots=True)
class Observation:
    origin: Side
    at: datetime | None
    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)  # local: wechat / ai / manual per field
    verified: frozenset[str] = frozenset()
    complete: bool = False  # an ERP pull lists every ERP field; a missing one is empty in the ERP


@dataclass(frozen=True, slots=True)
class MergeSettings:
    policy: Mapping[str, Strategy] = field(default_factory=lambda: dict(DEFAULT_POLICY))
    auto_fix: bool = True
    erp_window: timedelta = timedelta(0)

    def strategy(self, name: str) -> Strategy:
        return self.policy.get(name, CATALOG[name].strategy)


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any
    source: str | None  # where the value now shown came from
    change_type: ChangeType
    reason: str
    incoming: Any = None  # the value offered (differs from `new` in conflicts and merges)


def merge(fields: Fields, obs: Observation, settings: MergeSettings) -> tuple[dict[str, Slot], list[Change]]:
    out, changes = dict(fields), []
    names = ERP_FIELDS if obs.origin == "erp" and obs.complete else [n for n in obs.values if n in CATALOG]
    for name in names:
        strategy = settings.strategy(name)
        value = clean(name, obs.values.get(name), settings.auto_fix)
        old = fields.get(name, EMPTY)
        if obs.origin == "erp":
            if obs.at is None:
                raise ValueError("an ERP observation needs its pull time")
            observed = replace(old, erp=observe_erp(old.erp, value, obs.at))
        elif value is None or strategy is Strategy.ERP_ALWAYS:
            continue  # no opinion; ERP identifiers never come from our side
        else:
            source = obs.sources.get(name, "wechat")
            verified = name in obs.verified
            observed = replace(old, local=observe_local(old.local, value, source, obs.at, verified))
        new = settle(observed, strategy, settings.erp_window)
        if new != old:
            out[name] = new
            change = describe(name, old, new, obs.origin, value, strategy)
            if change is not None:
                changes.append(change)
    changes.sort(key=lambda c: -CATALOG[c.field].priority)
    return out, changes


def _side(source: str | None) -> Side | None:
    return None if source is None else "erp" if source == "erp" else "local"


def _learned(side: Side, old: Slot, new: Slot) -> bool:
    """Did this observation change what that side says?"""
    if side == "erp":
        return bool(old.erp_value != new.erp_value)
    return bool((old.local.value if old.local else None) != (new.local.value if new.local else None))


def describe(name: str, old: Slot, new: Slot, side: Side, offered: Any, strategy: Strategy) -> Change | None:
    def change(kind: ChangeType, reason: str, incoming: Any = offered) -> Change:
        return Change(name, old.value, new.value, new.source, kind, reason, incoming)

    if new.value != old.value:
        if old.value is None:
            return change("fill", f"补全空字段（来源 {new.source}）")
        if new.value is None:
            return change("update", "ERP 已清空该字段")
        if _side(new.source) == _side(old.source):
            return change("update", "同一来源的新值")
        return change("conflict", _won(strategy, _side(new.source)))
    if new.pending is not None and new.pending != old.pending:
        return change(
            "merge", "无法判断先后（缺少时间或在同一拉取周期内），保留现值，需人工决策", new.pending.value
        )
    if offered is not None and offered != new.value and new.value is not None and _learned(side, old, new):
        return change("conflict", _kept(strategy, side))
    if new.verified and not old.verified:
        return change("verify", "本地已验证")
    return None


def _won(strategy: Strategy, winner: Side | None) -> str:
    if strategy is Strategy.ERP_ALWAYS:
        return "冲突：ERP 标识以 ERP 为准"
    if strategy is Strategy.ERP_UNLESS_VERIFIED:
        return (
            "冲突：本地已验证，以本地为准（将推送到 ERP）"
            if winner == "local"
            else "冲突：本地未验证，以 ERP 为准"
        )
    if strategy is Strategy.LOCAL_WINS:
        return "冲突：补充字段本地优先"
    return "冲突：本地更新时间更晚" if winner == "local" else "冲突：ERP 更新时间更晚"


def _kept(strategy: Strategy, side: Side) -> str:
    if strategy is Strategy.ERP_UNLESS_VERIFIED:
        return (
            "冲突：本地已验证，保留本地值（将推送到 ERP）"
            if side == "erp"
            else "冲突：本地未验证，保留 ERP 值"
        )
    if strategy is Strategy.LOCAL_WINS:
        return "冲突：补充字段本地优先，ERP 值未采用"
    return "冲突：本地更新时间更晚，保留本地值" if side == "erp" else "冲突：ERP 更新时间更晚，保留 ERP 值"
