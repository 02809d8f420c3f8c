"""Request bodies of rules' HTTP API: shape and bounds here, meaning in the domain.

Strict: a value of the wrong JSON type (`0` for a flag, `"5"` for a number) is refused with 422, as the
OpenAPI document says, instead of being coerced (Schemathesis `negative_data_rejection`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(max_length=500)]
Flag = bool | None


class EvaluateRequest(BaseModel):
    """A customer as the seed's `rule_engine.evaluate(customer)` takes it; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    phone: Annotated[str, Field(max_length=50)] | int | None = None
    phone_verified: Flag = None
    company_name: Annotated[str, Field(max_length=200)] | None = None
    company_name_verified: Flag = None
    real_name: Annotated[str, Field(max_length=100)] | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    email_verified: Flag = None
    address: Text | None = None
    business_license_path: Text | None = None
    business_license_verified: Flag = None
    intent_score: Annotated[float, Field(ge=0, le=100)] | None = None
    message_count: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    conversation_days: Annotated[int, Field(ge=0, le=100_000)] | None = None
    has_order: Flag = None
    has_contract: Flag = None
    has_payment: Flag = None
    has_quote_request: Flag = None
    marked_as_important: Flag = None
    marked_as_invalid: Flag = None
    erp_customer_id: Annotated[int, Field(gt=0, lt=2**63)] | None = None


class ConditionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    fact: Annotated[str, Field(max_length=64)]
    op: Annotated[str, Field(max_length=16)]
    value: float | int | bool | Annotated[str, Field(max_length=200)] | None = None
    config: Annotated[str, Field(max_length=64)] | None = None


class RulePatch(BaseModel):
    """Only the keys sent change."""

    model_config = ConfigDict(extra="forbid", strict=True)

    priority: int | None = None
    position: int | None = None
    conditions: Annotated[list[ConditionBody], Field(max_length=20)] | None = None
    action: Literal["sync", "skip"] | None = None
    reason: Text | None = None
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    gate_exempt: bool | None = None
    enabled: bool | None = None
    description: Text | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=False)


class RuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    priority: int
    position: int = 0
    conditions: Annotated[list[ConditionBody], Field(max_length=20)]
    action: Literal["sync", "skip"]
    reason: Text
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    gate_exempt: bool = False
    enabled: bool = True
    description: Text = ""


class ConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    value: bool | int | float


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    strategy: Literal["erp_always", "erp_unless_verified", "local_wins", "latest"]


class DryRunBody(BaseModel):
    """A proposed change: rule edits by name, new rules, config values. Nothing is saved."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rules: Annotated[dict[str, RulePatch], Field(max_length=50)] = Field(default_factory=dict)
    new_rules: Annotated[list[RuleBody], Field(max_length=20)] = Field(default_factory=list)
    config: Annotated[dict[str, bool | int | float], Field(max_length=20)] = Field(default_factory=dict)
    sample: Annotated[int, Field(ge=0, le=100)] = 20


Fact = Annotated[bool, Field(strict=True)] | None


class ResolveBody(BaseModel):
    """Settle a value held for a manual decision: `choose` the held (`pending`) or the shown (`current`)
    value, or enter a `value`; exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    field: Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,63}$")]
    choose: Literal["pending", "current"] | None = None
    value: (
        Annotated[str, Field(min_length=1, max_length=500)]
        | Annotated[int, Field(strict=True, ge=-(2**62), le=2**62)]
        | Annotated[bool, Field(strict=True)]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_of(self) -> ResolveBody:
        if (self.choose is None) == (self.value is None):
            raise ValueError("send exactly one of `choose` and `value`")
        return self


VerifiableName = Literal["phone", "company_name", "real_name", "email"]


class ManualCustomerBody(BaseModel):
    """A customer sales staff enter by hand (no WeChat id): company, contact person and mobile required."""

    model_config = ConfigDict(extra="forbid")

    company_name: Annotated[str, Field(min_length=1, max_length=200)]
    real_name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: Annotated[str, Field(min_length=1, max_length=50)]
    email: Annotated[str, Field(max_length=200)] | None = None
    address: Text | None = None
    has_order: Fact = None
    has_contract: Fact = None
    has_payment: Fact = None
    has_quote_request: Fact = None
    marked_as_important: Fact = None
    marked_as_invalid: Fact = None
    verified: Annotated[list[VerifiableName], Field(max_length=4)] = Field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return self.model_dump(exclude={"verified"}, exclude_none=True)
