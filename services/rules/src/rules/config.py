"""rules settings: env prefix RULES_, nested with '__' (RULES_POSTGRES__PASSWORD)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import ServiceSettingsMixin, TokenSettingsMixin


class Settings(ServiceSettingsMixin, TokenSettingsMixin, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RULES_", env_nested_delimiter="__", extra="ignore")

    port: int = 8103
    customer_batch_size: int = Field(default=200, ge=1, le=2000, description="Records per consumer batch")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
