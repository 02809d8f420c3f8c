"""What one save of a customer writes: the customer, the quality and decision behind it, and the times it moves.

Named fields instead of the 26 positional parameters the upsert takes: the repository maps each to its column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rules.domain.customer import Customer
    from rules.domain.provenance import Slot
    from rules.domain.quality import Factor
    from rules.domain.sync import Plan


@dataclass(frozen=True, slots=True)
class Touch:
    """Times a save moves forward (never back)."""

    local_updated_at: datetime | None = None
    erp_updated_at: datetime | None = None
    erp_last_pulled: datetime | None = None
    erp_last_pushed: datetime | None = None
    error: str | None = None
    clear_error: bool = False


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: str
    code: str
    erp_customer_id: int | None
    wechat_id: str | None
    name_key: str | None
    fields: Mapping[str, Slot]
    contract_linked: bool
    capture_version: int
    quality_score: int
    completeness: float
    quality_factors: tuple[Factor, ...]
    quality_issues: tuple[str, ...]
    sync_status: str
    sync_action: str  # create / update / skip (lower case, as stored)
    sync_rule: str
    sync_reason: str
    sync_confidence: float  # rounded to the column's 3 places
    sync_version: int
    result_version: int
    requested_fields: Mapping[str, Any]
    touch: Touch

    @classmethod
    def of(cls, c: Customer, plan: Plan, touch: Touch) -> CustomerRecord:
        q, d = plan.quality, plan.decision
        return cls(
            id=c.id,
            code=c.code,
            erp_customer_id=c.erp_customer_id,
            wechat_id=c.wechat_id,
            name_key=c.name_key,
            fields=c.fields,
            contract_linked=c.contract_linked,
            capture_version=c.capture_version,
            quality_score=q.score,
            completeness=q.completeness,
            quality_factors=q.factors,
            quality_issues=q.issues,
            sync_status=c.sync.status,
            sync_action=d.action.lower(),
            sync_rule=d.rule,
            sync_reason=d.reason,
            sync_confidence=round(d.confidence, 3),
            sync_version=c.sync.version,
            result_version=c.sync.result_version,
            requested_fields=c.sync.requested,
            touch=touch,
        )


@dataclass(frozen=True, slots=True)
class ContractLink:
    """A contract line naming a company (by name key) as 甲方, at a version of the line."""

    name_key: str
    contract_no: str
    product_id: str
    version: int


@dataclass(frozen=True, slots=True)
class ResyncRequest:
    """A re-sync an operator asked for by SQL (the seed's form of Q3, migration 0062)."""

    customer_id: str
    requested_by: str
