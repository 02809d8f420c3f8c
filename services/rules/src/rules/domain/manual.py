"""What sales staff do by hand: settle a value held for a manual decision, enter a customer without a WeChat
id. Both are local observations with source `manual`, settled by the same field strategies as captures. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from rules.domain.fields import CATALOG, clean
from rules.domain.formats import is_email, is_mobile
from rules.domain.merge import Change, MergeSettings, Observation
from rules.domain.names import company_key
from rules.domain.provenance import LocalSeen, Slot
from rules.domain.resolution import settle

Choice = Literal["pending", "current"]
# A manual entry: the identity and contact fields sales staff know, and the facts the rules read.
ENTRY_FIELDS = (
    *("company_name", "real_name", "phone", "email", "address"),
    *(
        "has_order",
        "has_contract",
        "has_payment",
        "has_quote_request",
        "marked_as_important",
        "marked_as_invalid",
    ),
)
REQUIRED_FIELDS = ("company_name", "real_name", "phone")
_HOW = {"pending": "采用待定值 / took the held value", "current": "保留现值 / kept the shown value"}


class ManualInputError(ValueError):
    """Input a person sent that the domain refuses, with a stable code (and the HTTP status it maps to)."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True, slots=True)
class Resolution:
    slot: Slot
    change: Change  # the audit entry: always written, even when the shown value stays


def resolve(
    name: str, slot: Slot, choice: Choice | None, value: Any, at: datetime, settings: MergeSettings, who: str
) -> Resolution:
    """Settle the field's held value by a person's decision: the held one, the shown one, or one entered.

    The decision becomes our local value (source `manual`), dated after everything either side has shown, so
    the field's strategy settles on it: choosing the ERP's value makes both sides agree (nothing to push);
    choosing or entering another makes ours the later one (pushed when the rules say so). A later ERP change
    is judged against it as any other."""
    if name not in CATALOG:
        raise ManualInputError("invalid_field", f"未知字段 {name} / unknown field")
    if slot.pending is None:
        raise ManualInputError("nothing_pending", f"字段 {name} 没有待人工决策的值 / nothing held", 409)
    if choice is not None:
        chosen = slot.pending.value if choice == "pending" else slot.value
    else:
        chosen = clean(name, value, settings.auto_fix)
        if chosen is None:
            raise ManualInputError("invalid_value", f"字段 {name} 的值无效或为空 / not a value of this field")
    decided = at if slot.erp is None else max(at, slot.erp.seen_at + timedelta(microseconds=1))
    local = slot.local
    keep = local is not None and local.verified and local.value == chosen
    verified_at = local.verified_at if keep and local is not None else None
    ours = LocalSeen(chosen, "manual", decided, decided, keep, verified_at)
    settled = settle(replace(slot, local=ours), settings.strategy(name), settings.erp_window)
    how = _HOW[choice] if choice is not None else "录入新值 / entered a value"
    reason = f"人工决策（{who}）：{how}"
    return Resolution(settled, Change(name, slot.value, settled.value, "manual", "merge", reason, chosen))


def check_entry(values: Mapping[str, Any], auto_fix: bool) -> dict[str, Any]:
    """The entry cleaned as every source's values are (full-width digits, spaces, +86 … when auto_fix is on);
    a required field empty after cleaning, or a phone or email that is none, is refused."""
    out = {n: v for n in ENTRY_FIELDS if (v := clean(n, values.get(n), auto_fix)) is not None}
    for name in REQUIRED_FIELDS:
        if name not in out:
            raise ManualInputError(f"missing_{name}", f"{name} 不能为空 / {name} is required")
    if not is_mobile(out["phone"]):
        raise ManualInputError("invalid_phone", "手机号须为11位大陆手机号 / phone must be an 11-digit mobile")
    if not any(ch.isalpha() for ch in company_key(out["company_name"])):
        raise ManualInputError("invalid_company_name", "公司名称无效 / company name has no letters")
    if "email" in out and not is_email(out["email"]):
        raise ManualInputError("invalid_email", "邮箱格式不正确 / not an email address")
    return out


def entry_observation(values: Mapping[str, Any], verified: frozenset[str], at: datetime) -> Observation:
    unknown = verified - set(values)
    if unknown:
        raise ManualInputError(
            "invalid_verified", f"verified 指向未提供的字段 {sorted(unknown)} / not entered"
        )
    return Observation("local", at, values, dict.fromkeys(values, "manual"), verified)
