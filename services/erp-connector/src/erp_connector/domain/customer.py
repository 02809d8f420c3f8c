"""The normalised 智邦 customer (ERP_ZHIBANG.md §11), its content hash and list-row mapping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The fields the product uses. tax_no and added_at are left out: the list view never carries them,
# so a hash over them would differ between a list row and a detail view of the same record.
HASHED_FIELDS = (
    "code",
    "name",
    "category",
    "follow_level",
    "sales_person",
    "contact_name",
    "mobile",
    "phone",
    "email",
    "wechat",
    "address",
    "remark",
)
NORMALISED_FIELDS = (*HASHED_FIELDS, "tax_no", "added_at")


class MalformedRowError(ValueError):
    """A list row that cannot be paired with the table's columns."""


def clean(value: object) -> str | None:
    """Trimmed text; empty means null (the ERP sends "" for a missing value)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True, slots=True)
class ErpCustomer:
    erp_id: int
    code: str | None = None
    name: str | None = None
    category: str | None = None
    follow_level: str | None = None
    sales_person: str | None = None
    contact_name: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    address: str | None = None
    tax_no: str | None = None
    remark: str | None = None
    added_at: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def content_hash(self) -> str:
        return content_hash(self.fields())

    def fields(self) -> dict[str, str | None]:
        """The normalised record without its id and raw row (what the pulled event carries)."""
        return {name: getattr(self, name) for name in NORMALISED_FIELDS}


def content_hash(fields: Mapping[str, object]) -> str:
    """sha256 over the hashed fields, each cleaned, in a fixed order: key order never matters."""
    canonical = [[name, clean(fields.get(name))] for name in HASHED_FIELDS]
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _first(values: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        if (value := clean(values.get(key))) is not None:
            return value
    return None


def customer_from_values(values: Mapping[str, Any], texts: Mapping[str, Any] | None = None) -> ErpCustomer:
    """Map a list row (list column ids) or a detail view (ASP field ids, with display texts)."""
    texts = texts or {}
    try:
        erp_id = int(str(values["ord"]).strip())
    except (KeyError, ValueError) as exc:
        raise MalformedRowError(f"row without a numeric ord: {dict(values)!r:.200}") from exc
    return ErpCustomer(
        erp_id=erp_id,
        code=_first(values, "khid"),
        name=_first(values, "name"),
        category=_first(values, "sortname") or _first(texts, "sort1") or _first(values, "sort1"),
        follow_level=_first(values, "sort1name"),
        sales_person=_first(values, "catename") or _first(texts, "cateid"),
        contact_name=_first(values, "personname", "person_name"),
        mobile=_first(values, "mobile"),
        phone=_first(values, "phone"),
        email=_first(values, "email"),
        wechat=_first(values, "weixin", "weixinAcc"),
        address=_first(values, "address"),
        tax_no=_first(values, "bank_4"),
        remark=_first(values, "intro"),
        added_at=_first(values, "date1"),
        raw=dict(values),
    )


def pair_rows(col_ids: Sequence[str], rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Pair cols[i].id with each value; rows come as arrays or as {value: [...], ord}."""
    return [_pair(col_ids, row) for row in rows]


def _pair(col_ids: Sequence[str], row: Any) -> dict[str, Any]:
    ord_ = None
    if isinstance(row, Mapping):
        ord_, row = row.get("ord"), row.get("value")
    if not isinstance(row, Sequence) or isinstance(row, str | bytes) or len(row) != len(col_ids):
        raise MalformedRowError(f"row does not match {len(col_ids)} columns: {row!r:.200}")
    paired = dict(zip(col_ids, row, strict=True))
    if ord_ is not None and clean(paired.get("ord")) is None:
        paired["ord"] = ord_
    return paired
