"""Topic names: `<context>.<event>.v<N>`; dead letters on `<topic>.dlq`."""

from __future__ import annotations

from typing import Final

INGEST_HETONG_ROW_CHANGED: Final = "ingest.hetong-row-changed.v1"
INGEST_PROGRESS_REPORTED: Final = "ingest.progress-reported.v1"
INGEST_WECHAT_CUSTOMER_CAPTURED: Final = "ingest.wechat-customer-captured.v1"
INGEST_EMPLOYEE_CHANGED: Final = "ingest.employee-changed.v1"
TRANSFORM_CONTRACT_STANDARDIZED: Final = "transform.contract-standardized.v1"
TRANSFORM_PROCESS_CHANGED: Final = "transform.process-changed.v1"
ERP_CUSTOMER_PULLED: Final = "erp.customer-pulled.v1"
ERP_CUSTOMER_PUSH_COMPLETED: Final = "erp.customer-push-completed.v1"
RULES_CUSTOMER_SYNC_REQUESTED: Final = "rules.customer-sync-requested.v1"

ALL: Final = (
    INGEST_HETONG_ROW_CHANGED,
    INGEST_PROGRESS_REPORTED,
    INGEST_WECHAT_CUSTOMER_CAPTURED,
    INGEST_EMPLOYEE_CHANGED,
    TRANSFORM_CONTRACT_STANDARDIZED,
    TRANSFORM_PROCESS_CHANGED,
    ERP_CUSTOMER_PULLED,
    ERP_CUSTOMER_PUSH_COMPLETED,
    RULES_CUSTOMER_SYNC_REQUESTED,
)


def dlq(topic: str) -> str:
    return f"{topic}.dlq"
