"""Every topic, the contract it carries, who produces it and who consumes it.

The inbox subscribers decode with `model_of(topic)`, and the AsyncAPI document (`make docs`) is generated
from this table, so the documented payload is the one the consumers validate against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from common import topics
from common.events.customers import (
    CustomerPushCompleted,
    CustomerSyncRequested,
    ErpCustomerPulled,
    WechatCustomerCaptured,
)
from common.events.ingest import EmployeeChanged, HetongRowChanged, ProgressReported
from common.events.transform import ContractStandardized, ProcessChanged

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Channel:
    topic: str
    model: type[BaseModel]
    producer: str
    consumers: tuple[str, ...]


CHANNELS: tuple[Channel, ...] = (
    Channel(topics.INGEST_HETONG_ROW_CHANGED, HetongRowChanged, "ingest", ("transform",)),
    Channel(topics.INGEST_PROGRESS_REPORTED, ProgressReported, "ingest", ("transform",)),
    Channel(topics.INGEST_WECHAT_CUSTOMER_CAPTURED, WechatCustomerCaptured, "ingest", ("rules",)),
    Channel(topics.INGEST_EMPLOYEE_CHANGED, EmployeeChanged, "ingest", ("transform",)),
    Channel(topics.TRANSFORM_CONTRACT_STANDARDIZED, ContractStandardized, "transform", ("rules",)),
    Channel(topics.TRANSFORM_PROCESS_CHANGED, ProcessChanged, "transform", ("ingest",)),
    Channel(topics.ERP_CUSTOMER_PULLED, ErpCustomerPulled, "erp-connector", ("rules",)),
    Channel(topics.ERP_CUSTOMER_PUSH_COMPLETED, CustomerPushCompleted, "erp-connector", ("rules",)),
    Channel(topics.RULES_CUSTOMER_SYNC_REQUESTED, CustomerSyncRequested, "rules", ("erp-connector",)),
)
_BY_TOPIC = {c.topic: c for c in CHANNELS}


def model_of(topic: str) -> type[BaseModel]:
    """The payload model of `topic`; a topic missing here is a programming error, raised at subscribe time."""
    try:
        return _BY_TOPIC[topic].model
    except KeyError:
        raise KeyError(f"topic {topic!r} is not in common.events.catalog.CHANNELS") from None
