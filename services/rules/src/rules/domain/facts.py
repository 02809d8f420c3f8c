"""Named facts about a customer that rule conditions refer to. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.domain.formats import is_empty, to_bool, to_int
from rules.domain.quality import Quality

FLAGS = (
    "has_order",
    "has_contract",
    "has_payment",
    "has_quote_request",
    "marked_as_important",
    "marked_as_invalid",
    "phone_verified",
    "company_name_verified",
    "email_verified",
    "business_license_verified",
)
COUNTS = ("intent_score", "message_count", "conversation_days")
TEXTS = ("phone", "company_name", "real_name", "email", "address", "business_license_path")
FACTS: tuple[str, ...] = (*FLAGS, *COUNTS, *TEXTS, "quality_score", "erp_customer_id")

Facts = Mapping[str, Any]


def facts_of(customer: Mapping[str, Any], quality: Quality) -> dict[str, Any]:
    """Missing numbers count as 0 and missing flags as false, as in the seed's `customer.get(..., 0)`."""
    facts: dict[str, Any] = {f: bool(to_bool(customer.get(f))) for f in FLAGS}
    facts |= {f: to_int(customer.get(f)) or 0 for f in COUNTS}
    facts |= {f: None if is_empty(customer.get(f)) else str(customer.get(f)).strip() for f in TEXTS}
    erp_id = customer.get("erp_customer_id")
    facts["erp_customer_id"] = None if is_empty(erp_id) else erp_id
    facts["quality_score"] = quality.score
    return facts
