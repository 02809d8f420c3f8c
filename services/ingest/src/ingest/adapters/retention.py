"""What ingest prunes, besides the delivery plumbing (common.retention runs it)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from common.retention import RetentionPolicy

if TYPE_CHECKING:
    from ingest.config import IngestRetention


def retention_policies(settings: IngestRetention) -> list[RetentionPolicy]:
    return [
        # A retried upload within this window still gets its stored answer (DELIVERY.md §9: >= 24 h).
        RetentionPolicy("idempotency", "created_at", timedelta(hours=settings.idempotency_hours)),
        # Fixed windows of a minute or a day: a window that started more than a day ago has ended.
        RetentionPolicy("rate_counters", "window_start", timedelta(hours=settings.rate_counters_hours)),
    ]
