"""What erp-connector prunes, besides the delivery plumbing (common.retention runs it)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from common.retention import RetentionPolicy

if TYPE_CHECKING:
    from erp_connector.config import ErpRetention


def retention_policies(settings: ErpRetention) -> list[RetentionPolicy]:
    api = timedelta(days=settings.api_logs_days)
    return [
        RetentionPolicy("erp_sync_logs", "synced_at", timedelta(days=settings.sync_logs_days)),  # seed 004
        RetentionPolicy("erp_api_logs", "at", api),
        RetentionPolicy("erp_push_attempts", "at", api),
        # A request still waiting for its outcome stays, however old.
        RetentionPolicy("erp_push_requests", "received_at", api, "t.outcome IS NOT NULL"),
    ]
