"""rules settings: env prefix RULES_, nested with '__' (RULES_POSTGRES__PASSWORD)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from common.settings import FileSettings, RetentionSettings, ServiceSettingsMixin, TokenVerifierSettingsMixin


class RulesRetention(RetentionSettings):
    """Seed 004 keeps sync logs 30 days and change history 90 days."""

    field_history_days: int = Field(default=90, ge=1, description="field_change_history")
    sync_log_days: int = Field(default=30, ge=1, description="sync_log (the seed's erp_sync_logs)")
    decisions_days: int = Field(default=90, ge=1, description="sync_decisions and finished sync_requests")


class Settings(ServiceSettingsMixin, TokenVerifierSettingsMixin, FileSettings):
    model_config = SettingsConfigDict(env_prefix="RULES_", env_nested_delimiter="__", extra="ignore")

    port: int = 8103
    customer_batch_size: int = Field(default=200, ge=1, le=2000, description="Records per consumer batch")
    resync_poll_s: float = Field(
        default=5.0, gt=0, le=3600, description="Seed 004 Q3: SQL re-sync requests polled"
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    retention: RulesRetention = RulesRetention()
