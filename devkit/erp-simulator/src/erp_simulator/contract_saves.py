"""Validating and storing a contract header save (``contract/add.asp``, V3 ``sale/contract/add``)."""

from datetime import datetime

from erp_simulator.contract_fields import (
    DATE_FIELDS,
    DEFAULT_STATE,
    FIELDS_BY_ID,
    MONEY_FIELDS,
    REQUIRED,
)
from erp_simulator.contracts import ContractRecord
from erp_simulator.enums import CONTRACT_SORTS, CONTRACT_STATES, CURRENCIES
from erp_simulator.errors import BusinessError
from erp_simulator.sessions import Session
from erp_simulator.state import SimulatorState
from erp_simulator.write_faults import store_with_faults

_CHOICES = {"sort": CONTRACT_SORTS, "complete1": CONTRACT_STATES, "bz": CURRENCIES}


def save_contract(state: SimulatorState, session: Session, ord_: int | None, fields: dict[str, str]) -> int:
    """Insert when ``ord_`` is None or freshly allocated, update when it exists."""
    existing = state.contracts.get(ord_) if ord_ is not None else None
    if ord_ is not None and existing is None and not state.contracts.ids.is_pending(ord_):
        raise BusinessError("合同不存在或已被删除")
    target = ord_ if ord_ is not None else state.contracts.ids.take()
    incoming = {k: v.strip() for k, v in fields.items() if k in FIELDS_BY_ID}
    merged = {**(existing.fields if existing else {}), **incoming}
    _validate(state, incoming, merged)

    def apply(applied: dict[str, str]) -> None:
        now = state.now()
        if existing is None:
            owner = state.team.id_of(session.user.sales_person)
            defaults = {"cateid": owner, "complete1": DEFAULT_STATE, "spzt": "待审批"}
            record = ContractRecord(target, {**defaults, **applied}, now, now)
        else:
            record = existing
            record.fields.update(applied)
            record.modified_at = now
        record.save_count += 1
        state.contracts.put(record)

    store_with_faults(state.faults, state.dice, state.counters, incoming, REQUIRED, apply)
    return target


def _validate(state: SimulatorState, incoming: dict[str, str], merged: dict[str, str]) -> None:
    for field_id in REQUIRED:
        if not merged.get(field_id, ""):
            raise BusinessError(f"{FIELDS_BY_ID[field_id].caption}({field_id})不能为空")
    company = merged["company"]
    if not company.isdigit() or state.customers.get(int(company)) is None:
        raise BusinessError("客户(company)不存在")
    for field_id, value in incoming.items():
        spec = FIELDS_BY_ID[field_id]
        if spec.max_len is not None and len(value) > spec.max_len:
            raise BusinessError(f"{spec.caption}({field_id})不能超过{spec.max_len}个字")
        if value and field_id in MONEY_FIELDS and not _is_number(value):
            raise BusinessError(f"{spec.caption}({field_id})必须是数字")
        if value and field_id in DATE_FIELDS and not _is_date(value):
            raise BusinessError(f"{spec.caption}({field_id})日期格式不正确")
        choices = _CHOICES.get(field_id)
        if value and choices is not None and all(value != key for key, _ in choices):
            raise BusinessError(f"{spec.caption}({field_id})的值{value}无效")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True
