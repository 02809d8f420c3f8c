"""The WeChat capture body as clients send it (validated at the edge, then turned into a domain Capture)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ingest.domain.capture import Capture, check_sources

Text = Field(default=None, max_length=500)


class CaptureBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    wechat_id: str = Field(min_length=1, max_length=100)
    captured_at: datetime | None = None
    company_name: str | None = Text
    real_name: str | None = Text
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Text
    address: str | None = Text
    wechat_nickname: str | None = Text
    wechat_avatar: str | None = Text
    wechat_remark: str | None = Text
    last_message_content: str | None = Field(default=None, max_length=4000)
    intent_score: int | None = Field(default=None, ge=0, le=100)
    message_count: int | None = Field(default=None, ge=0)
    conversation_days: int | None = Field(default=None, ge=0)
    has_order: bool | None = None
    has_contract: bool | None = None
    has_payment: bool | None = None
    has_quote_request: bool | None = None
    marked_as_important: bool | None = None
    marked_as_invalid: bool | None = None
    business_license_verified: bool | None = None
    extracted_company_info: dict[str, Any] | None = None
    extracted_product_interest: dict[str, Any] | list[Any] | None = None
    extracted_needs: dict[str, Any] | list[Any] | None = None
    business_license_info: dict[str, Any] | None = None
    sources: dict[str, str] = Field(default_factory=dict, description="field -> wechat | ai | manual")
    verified: list[str] = Field(default_factory=list, max_length=20)

    def to_capture(self) -> Capture:
        meta = {"wechat_id", "captured_at", "sources", "verified"}
        fields = {k: v for k, v in self.model_dump(exclude=meta).items() if v is not None}
        check_sources(fields, self.sources, self.verified)
        at = self.captured_at or datetime.now(UTC)
        return Capture(
            self.wechat_id,
            at if at.tzinfo else at.replace(tzinfo=UTC),
            fields,
            self.sources,
            tuple(self.verified),
        )
