"""The customer fields we merge: kind, default conflict strategy, ERP names (DOMAIN.md §5, §6). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rules.domain.formats import clean_text, plain, to_bool, to_int


class Strategy(StrEnum):
    ERP_ALWAYS = "erp_always"  # ERP identifiers: the ERP's value, whatever we hold
    ERP_UNLESS_VERIFIED = "erp_unless_verified"  # core: the ERP's value unless ours was verified locally
    LOCAL_WINS = "local_wins"  # WeChat supplements: ours; the ERP only fills an empty field
    LATEST = "latest"  # everything else: the later source time; undecidable → manual `merge`


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: Kind
    strategy: Strategy
    erp_name: str | None = None  # key in ErpCustomerPulled.fields
    push_name: str | None = None  # 智邦 field written by a push
    priority: int = 0  # order of change records (seed: phone 10 … nickname 1)


T, N, B, J = Kind.TEXT, Kind.INT, Kind.BOOL, Kind.JSON
ERP, CORE, LOCAL, LATEST = (
    Strategy.ERP_ALWAYS,
    Strategy.ERP_UNLESS_VERIFIED,
    Strategy.LOCAL_WINS,
    Strategy.LATEST,
)

CATALOG: Mapping[str, FieldSpec] = {
    s.name: s
    for s in (
        FieldSpec("erp_customer_id", N, ERP, "erp_id"),
        FieldSpec("erp_customer_code", T, ERP, "code", priority=4),
        FieldSpec("phone", T, CORE, "mobile", "mobile", 10),
        FieldSpec("company_name", T, CORE, "name", "name", 9),
        FieldSpec("real_name", T, CORE, "contact_name", "person_name", 8),
        FieldSpec("email", T, LATEST, "email", "email", 7),
        FieldSpec("address", T, LATEST, "address", "address", 6),
        FieldSpec("business_license_info", J, LATEST, priority=5),
        FieldSpec("business_license_path", T, LATEST, priority=5),
        FieldSpec("business_license_verified", B, LATEST, priority=5),
        FieldSpec("wechat_id", T, LOCAL, "wechat", "weixinAcc", 3),
        FieldSpec("wechat_nickname", T, LOCAL, priority=1),
        FieldSpec("wechat_avatar", T, LOCAL),
        FieldSpec("intent_score", N, LOCAL),
        FieldSpec("message_count", N, LOCAL),
        FieldSpec("wechat_remark", T, LATEST),
        FieldSpec("erp_customer_category", T, LATEST, "category"),
        FieldSpec("erp_follow_level", T, LATEST, "follow_level"),
        FieldSpec("intent_level", T, LATEST),
        FieldSpec("intent_signals", J, LATEST),
        FieldSpec("conversation_days", N, LATEST),
        FieldSpec("first_contact_time", T, LATEST),
        FieldSpec("last_contact_time", T, LATEST),
        FieldSpec("last_message_content", T, LATEST),
        FieldSpec("extracted_company_info", J, LATEST),
        FieldSpec("extracted_product_interest", J, LATEST),
        FieldSpec("extracted_needs", J, LATEST),
        FieldSpec("has_order", B, LATEST),
        FieldSpec("has_contract", B, LATEST),
        FieldSpec("has_payment", B, LATEST),
        FieldSpec("has_quote_request", B, LATEST),
        FieldSpec("marked_as_important", B, LATEST),
        FieldSpec("marked_as_invalid", B, LATEST),
    )
}
MAX_COUNT = 2**31 - 1
ERP_FIELDS = tuple(s.name for s in CATALOG.values() if s.erp_name)
DEFAULT_POLICY: Mapping[str, Strategy] = {s.name: s.strategy for s in CATALOG.values()}


def clean(field: str, value: object, auto_fix: bool = True) -> Any:
    """The value as we store and compare it; None when it is empty or not of the field's kind."""
    spec = CATALOG[field]
    if spec.kind is Kind.TEXT:
        return clean_text(field, value, auto_fix)
    if value is None or (isinstance(value, str) and clean_text(field, value, False) is None):
        return None
    if spec.kind is Kind.INT:
        number = to_int(value)
        if number is None:
            return None
        if field == "erp_customer_id":
            return number if 0 < number < 2**63 else None
        return max(0, min(number, 100 if field == "intent_score" else MAX_COUNT))
    if spec.kind is Kind.BOOL:
        return to_bool(value)
    return plain(value) if value not in ({}, []) else None


def erp_values(erp_id: int, code: str | None, record: Mapping[str, Any]) -> dict[str, Any]:
    """An ERP pull in our field names. Full state: a field the record lacks is a field the ERP left empty."""
    values = {s.name: record.get(s.erp_name) for s in CATALOG.values() if s.erp_name}
    values["erp_customer_id"], values["erp_customer_code"] = erp_id, code
    return values


def push_names(values: Mapping[str, Any]) -> dict[str, Any]:
    """Our field names → the ERP's, for a push command."""
    return {CATALOG[f].push_name or f: v for f, v in values.items()}


def from_push_names(values: Mapping[str, Any]) -> dict[str, Any]:
    back = {s.push_name: s.name for s in CATALOG.values() if s.push_name}
    return {back[k]: v for k, v in values.items() if k in back}
