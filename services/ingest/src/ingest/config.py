"""ingest settings: env prefix INGEST_, nested with '__' (INGEST_POSTGRES__PASSWORD)."""

from __future__ import annotations

from common.settings import ServiceSettingsMixin, refuse_placeholder
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(ServiceSettingsMixin, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", env_nested_delimiter="__", extra="ignore")

    port: int = 8101
    token_secret: SecretStr = Field(description="HMAC key for access tokens; no default")
    token_ttl_s: int = Field(default=900, ge=60, le=86400)
    token_issuer: str = "rollsync-ingest"
    token_audience: str = "rollsync"
    max_body_bytes: int = 8 * 1024 * 1024
    max_rows_per_batch: int = 10_000
    login_failures_per_minute: int = 10
    relay_batch_size: int = 1000

    @model_validator(mode="after")
    def _token_secret_is_real(self) -> Settings:
        refuse_placeholder(self.env, "token_secret", self.token_secret)
        return self
