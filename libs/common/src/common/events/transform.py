"""Events produced by transform."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ContractStandardized(BaseModel):
    """A contract line has a new standardized form; rules turns 甲方 into a customer candidate."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    contract_no: str
    product_id: str
    version: int = Field(ge=1)
    party_a: str | None = Field(description="甲方: the customer company")
    product_name: str | None
    contract_status: str | None
    progress_percentage: Decimal
    current_process: str | None
