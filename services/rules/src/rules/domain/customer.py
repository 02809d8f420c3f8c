"""The unified customer: identity, merged fields with provenance, and where its ERP sync stands. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rules.domain.names import company_key
from rules.domain.provenance import EMPTY, Slot

SyncStatus = Literal["pending", "synced", "failed", "skipped"]
VERIFIABLE = ("phone", "company_name", "email")


@dataclass(frozen=True, slots=True)
class SyncState:
    status: SyncStatus = "pending"
    version: int = 0  # last CustomerSyncRequested version emitted
    result_version: int = 0  # last CustomerPushCompleted version applied
    requested: Mapping[str, Any] = field(default_factory=dict)  # fields of the last request, our names

    @property
    def outstanding(self) -> bool:
        return self.status == "pending" and self.version > self.result_version


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    code: str  # our stable code, written to the ERP's khid on create
    fields: Mapping[str, Slot] = field(default_factory=dict)
    wechat_id: str | None = None  # identity of the WeChat capture stream
    erp_customer_id: int | None = None  # 智邦 ord
    contract_linked: bool = False  # a standardized contract names this company as 甲方
    capture_version: int = 0
    sync: SyncState = field(default_factory=SyncState)

    def value(self, name: str) -> Any:
        return self.fields.get(name, EMPTY).value

    @property
    def name_key(self) -> str | None:
        name = self.value("company_name")
        return (company_key(name) or None) if isinstance(name, str) else None

    def flat(self) -> dict[str, Any]:
        """Values as the seed's rule engine reads a customer row: phone, phone_verified, has_contract, …"""
        values = {n: s.value for n, s in self.fields.items()}
        for name in VERIFIABLE:
            values[f"{name}_verified"] = self.fields.get(name, EMPTY).verified
        licence = self.fields.get("business_license_path", EMPTY)
        values["business_license_verified"] = (
            bool(values.get("business_license_verified")) or licence.verified
        )
        values["has_contract"] = bool(values.get("has_contract")) or self.contract_linked
        values["erp_customer_id"] = self.erp_customer_id
        return values
