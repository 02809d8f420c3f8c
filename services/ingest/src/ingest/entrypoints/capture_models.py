"""The WeChat capture body as clients send it (validated at the edge, then turned into a domain Capture)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from ingest.domain.capture import Capture, check_sources

Text = Field(default=None, max_length=500)


class CaptureBody(BaseModel):
    """Flags and counts are strict: `0` is not a flag, `"5"` not a count (422, as the OpenAPI document says)."""

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
    intent_score: StrictInt | None = Field(default=None, ge=0, le=100)
    message_count: StrictInt | None = Field(default=None, ge=0)
    conversation_days: StrictInt | None = Field(default=None, ge=0)
    has_order: StrictBool | None = None
    has_contract: StrictBool | None = None
    has_payment: StrictBool | None = None
    has_quote_request: StrictBool | None = None
    marked_as_important: StrictBool | None = None
    marked_as_invalid: StrictBool | None = None
    business_license_verified: StrictBool | None = None
    extracted_company_info: dict[str, Any] | None = None
    extracted_product_interest: dict[str, Any] | list[Any] | None = None
    extracted_needs: dict[str, Any] | list[Any] | None = None
    business_license_info: dict[str, Any] | None = None
    sources: dict[str, str] = Field(default_factory=dict, description="field -> wechat | ai | manual")
    verified: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("captured_at", mode="before")
    @classmethod
    def _date_time_text_only(cls, value: object) -> object:
        """pydantic would read a number as a Unix time; the document (and seed 004) say an ISO 8601 string."""
        if value is not None and not isinstance(value, str):
            raise ValueError(
                "captured_at must be an ISO 8601 date-time string, e.g. 2026-12-05T08:30:00+08:00"
            )
        return value

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
