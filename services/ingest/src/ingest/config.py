"""ingest settings: env prefix INGEST_, nested with '__' (INGEST_POSTGRES__PASSWORD)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from common.settings import FileSettings, RetentionSettings, ServiceSettingsMixin, TokenSettingsMixin


class IngestRetention(RetentionSettings):
    idempotency_hours: int = Field(
        default=48, ge=24, description="Idempotency keys (DELIVERY.md §9: >= 24 h)"
    )
    rate_counters_hours: int = Field(
        default=48, ge=25, description="Rate windows: a day window ends after 24 h"
    )


class Settings(ServiceSettingsMixin, TokenSettingsMixin, FileSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", env_nested_delimiter="__", extra="ignore")

    port: int = 8101
    token_ttl_s: int = Field(default=900, ge=60, le=86400)
    max_body_bytes: int = 8 * 1024 * 1024
    max_rows_per_batch: int = 10_000
    login_failures_per_minute: int = 10
    update_time_max_skew_s: int = Field(
        default=300, ge=0, le=86400, description="A report's update_time may be at most this far ahead of now"
    )
    retention: IngestRetention = IngestRetention()
    # How often one process writes a client's last-seen time at most (the alert threshold is 15 min).
    last_seen_every_s: float = Field(default=30, ge=0, le=300)
