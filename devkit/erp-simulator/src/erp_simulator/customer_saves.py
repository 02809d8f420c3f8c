"""Validating and storing a customer save from either API style."""

import re
from dataclasses import dataclass
from typing import Literal

from erp_simulator.customer_fields import FIELDS_BY_ID, FOLLOW_LEVEL, REQUIRED_BY_INTSORT
from erp_simulator.customers import CustomerRecord
from erp_simulator.errors import BusinessError
from erp_simulator.sessions import Session
from erp_simulator.state import SimulatorState
from erp_simulator.write_faults import store_with_faults

_MOBILE = re.compile(r"1[3-9]\d{9}")
_DUPLICATE_MESSAGES = {"name": "客户名称重复", "khid": "客户编号重复"}


@dataclass(frozen=True)
class CustomerSave:
    ord: int | None  # None: V3 add, which takes a fresh id without an allocation call
    intsort: int | None  # None: keep the stored type
    fields: dict[str, str]
    style: Literal["asp", "v3"]


def save_customer(state: SimulatorState, session: Session, command: CustomerSave) -> int:
    existing = _target(state, command.ord)
    ord_ = existing.ord if existing else (command.ord or state.customers.ids.take())
    incoming = {k: v.strip() for k, v in command.fields.items() if _savable(k)}
    merged = {**(existing.fields if existing else {}), **incoming}
    intsort = command.intsort or (existing.intsort if existing else 1)
    required = _required(state, command.style, intsort)
    _validate(state, command, required, incoming, merged, ord_)

    def apply(applied: dict[str, str]) -> None:
        now = state.now()
        if existing is None:
            owner = state.team.id_of(session.user.sales_person)
            fields = {"cateid": owner, "bz": "14", **applied}
            person_id = state.customers.next_person_id()
            record = CustomerRecord(ord_, intsort, fields, now, now, person_id)
        else:
            record = existing
            record.fields.update(applied)
            record.intsort = intsort
            record.modified_at = now
        record.fields = {key: value for key, value in record.fields.items() if value}
        record.save_count += 1
        state.customers.put(record)

    store_with_faults(state.faults, state.dice, state.counters, incoming, required, apply)
    return ord_


def _target(state: SimulatorState, ord_: int | None) -> CustomerRecord | None:
    if ord_ is None:
        return None
    record = state.customers.get(ord_)
    if record is None and not state.customers.ids.is_pending(ord_):
        raise BusinessError("客户不存在或已被删除")
    return record


def _savable(field_id: str) -> bool:
    return field_id in FIELDS_BY_ID or field_id == FOLLOW_LEVEL


def _required(state: SimulatorState, style: str, intsort: int) -> tuple[str, ...]:
    if style == "v3":
        # V3 leaves required fields to each instance's policy (section 5); settings play it.
        return tuple(f for f in state.settings.v3_required_fields if f in FIELDS_BY_ID)
    return REQUIRED_BY_INTSORT[intsort]


def _validate(
    state: SimulatorState,
    command: CustomerSave,
    required: tuple[str, ...],
    incoming: dict[str, str],
    merged: dict[str, str],
    ord_: int,
) -> None:
    for field_id in required:
        if not merged.get(field_id, "").strip():
            raise BusinessError(f"{FIELDS_BY_ID[field_id].caption}({field_id})不能为空")
    for field_id, value in incoming.items():
        spec = FIELDS_BY_ID.get(field_id)
        if spec is None or not value:
            continue
        if spec.max_len is not None and len(value) > spec.max_len:
            raise BusinessError(f"{spec.caption}({field_id})不能超过{spec.max_len}个字")
        if spec.enum_id is not None and not state.catalog.is_valid(spec.enum_id, value):
            raise BusinessError(f"{spec.caption}({field_id})的值{value}无效")
    if incoming.get("cateid") and not state.team.name_of(incoming["cateid"]):
        raise BusinessError("销售人员(cateid)无效")
    mobile = incoming.get("mobile", "")
    if command.style == "v3" and mobile and not _MOBILE.fullmatch(mobile):
        raise BusinessError("手机号码格式不正确，须为11位手机号")
    check = state.faults.duplicate_check
    if check != "off" and state.customers.has_duplicate(check, merged.get(check, ""), ord_):
        raise BusinessError(_DUPLICATE_MESSAGES[check])
