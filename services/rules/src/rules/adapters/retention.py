"""What rules prunes, besides the delivery plumbing (common.retention runs it). Ages follow seed 004."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from common.retention import RetentionPolicy

if TYPE_CHECKING:
    from rules.config import RulesRetention


def retention_policies(settings: RulesRetention) -> list[RetentionPolicy]:
    return [
        RetentionPolicy("field_change_history", "changed_at", timedelta(days=settings.field_history_days)),
        RetentionPolicy("sync_log", "synced_at", timedelta(days=settings.sync_log_days)),
        RetentionPolicy("sync_decisions", "decided_at", timedelta(days=settings.decisions_days)),
        # A request without its ERP result stays, however old: the result may still come.
        RetentionPolicy(
            "sync_requests", "completed_at", timedelta(days=settings.decisions_days), "t.result IS NOT NULL"
        ),
    ]
