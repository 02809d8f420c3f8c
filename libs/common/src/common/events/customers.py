"""Customer events: WeChat capture (ingest), ERP pull and push (erp-connector), sync commands (rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class WechatCustomerCaptured(BaseModel):
    """A customer seen in WeChat, with what AI extraction found. Full state of the capture, not a diff."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    wechat_id: str = Field(description="Stable WeChat id; the aggregate key")
    version: int = Field(ge=1, description="Monotonic per wechat_id, set by ingest")
    captured_at: datetime
    client_id: str
    fields: dict[str, Any] = Field(
        description="Captured values (company_name, real_name, phone, email, "
        "address, wechat_nickname, intent_score, message_count, …)"
    )
    sources: dict[str, Literal["wechat", "ai", "manual"]] = Field(
        default_factory=dict, description="Per field: where the value came from (default wechat)"
    )
    verified: list[str] = Field(default_factory=list, description="Fields a person verified locally")


class ErpCustomerPulled(BaseModel):
    """A customer the hourly ERP scan found new or changed (content hash differs)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    erp_id: int = Field(description="智邦 `ord`")
    code: str | None = Field(description="智邦 `khid`")
    content_hash: str
    pulled_at: datetime = Field(description="Scan time; the ERP keeps no modification time")
    fields: dict[str, Any] = Field(
        description="Normalised record: name, contact_name, mobile, phone, email, "
        "wechat, address, category, …"
    )


class CustomerSyncRequested(BaseModel):
    """rules decided a customer should be pushed to the ERP (a command for erp-connector)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    customer_id: str = Field(description="customers_unified id; the aggregate key")
    code: str = Field(description="Our stable code written into 智邦 `khid`, e.g. KH-000123")
    action: Literal["create", "update"]
    erp_id: int | None
    version: int = Field(ge=1, description="Monotonic per customer; a newer request supersedes older ones")
    fields: dict[str, Any] = Field(description="ERP-side values to write (name, person_name, mobile, …)")
    rule: str = Field(description="The rule that decided it, e.g. high_quality_verified")
    reason: str


class CustomerPushCompleted(BaseModel):
    """What the ERP push did (erp-connector → rules): sets the customer's ERP id and sync status."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    customer_id: str
    version: int = Field(ge=1, description="The CustomerSyncRequested version this answers")
    result: Literal["synced", "failed"]
    erp_id: int | None
    error: str | None = None
    completed_at: datetime
