"""erp_connector settings: env prefix ERP_CONNECTOR_, nested with '__' (ERP_CONNECTOR_ERP__PASSWORD)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from common.settings import (
    FileSettings,
    RetentionSettings,
    ServiceSettingsMixin,
    TokenVerifierSettingsMixin,
    refuse_placeholder,
)


class ErpSettings(BaseModel):
    """Where the 智邦 instance is, who we are there, and how gently we talk to it."""

    base_url: str = Field(description="e.g. https://erp.example.com (no trailing path)")
    username: str = Field(min_length=1, description="A dedicated integration user that sees all customers")
    password: SecretStr = Field(description="No default; sent only as the `txt:` login value")
    serialnum: str = Field(default="ROLLSYNC01", description="Client serial: 1-20 letters and digits")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    write_timeout_s: float = Field(default=10.0, gt=0)
    pool_timeout_s: float = Field(default=5.0, gt=0)
    call_timeout_s: float = Field(default=35.0, gt=0, description="Deadline for a whole call, body included")
    max_connections: int = Field(default=8, ge=1, le=64)
    max_response_bytes: int = Field(default=16 * 1024 * 1024, ge=64 * 1024)
    rate_limit_per_second: float = Field(default=5.0, gt=0, description="Client-side token bucket rate")
    rate_limit_burst: int = Field(default=2, ge=1)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_open_seconds: float = Field(default=30.0, gt=0, description="Also the half-open probe interval")
    session_expired_texts: list[str] = Field(
        default_factory=list, description="Extra ASP messages meaning 'log in again'"
    )
    captcha_texts: list[str] = Field(
        default_factory=list, description="Extra ASP login messages meaning 'captcha'"
    )
    throttled_texts: list[str] = Field(
        default_factory=list, description="Extra ASP messages meaning 'too frequent'"
    )

    @field_validator("serialnum")
    @classmethod
    def _serial(cls, value: str) -> str:
        if not (1 <= len(value) <= 20 and value.isascii() and value.isalnum()):
            raise ValueError("serialnum must be 1-20 ASCII letters and digits")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")


class PullSettings(BaseModel):
    enabled: bool = Field(
        default=True, description="Seed 004's erp_pull.enabled: false = no pull runs at all"
    )
    interval_s: float = Field(default=3600.0, gt=0, description="Hourly by default (seed 004)")
    page_size: int = Field(default=200, ge=100, le=500)
    page_pause_s: float = Field(default=0.05, ge=0, description="Pause between pages")
    max_page_attempts: int = Field(default=8, ge=1, le=8)
    max_outage_s: float = Field(
        default=600.0, gt=0, description="Give a pull up after the breaker stays open this long"
    )
    not_visible_after_scans: int = Field(
        default=2, ge=1, description="Complete scans an ord may miss before 'not visible'"
    )


class PushSettings(BaseModel):
    enabled: bool = Field(
        default=True, description="Seed 004's erp_push.enabled: false = requests queue, nothing is sent"
    )
    interval_s: float = Field(default=1800.0, gt=0, description="Every 30 min by default (seed 004)")
    batch_size: int = Field(default=50, ge=1, le=500)
    concurrency: int = Field(default=4, ge=1, le=32)
    max_attempts: int = Field(default=8, ge=1, le=8, description="ERP saves per push version before the DLQ")
    max_read_failures: int = Field(default=24, ge=1, description="Failed lookups/read-backs before the DLQ")
    retry_base_s: float = Field(default=1.0, gt=0)
    retry_cap_s: float = Field(default=60.0, gt=0)
    retry_budget_ratio: float = Field(default=0.5, gt=0, description="Retries allowed per first try")
    retry_budget_min_per_s: float = Field(default=1.0, ge=0)
    max_wait_in_run_s: float = Field(
        default=120.0, ge=0, description="A run waits this long for retries coming due"
    )
    lease_s: float = Field(default=300.0, gt=0)
    create_defaults: dict[str, str] = Field(
        default_factory=dict,
        description="ASP fields for new customers when the command lacks them, e.g. sort1",
    )


class ErpRetention(RetentionSettings):
    sync_logs_days: int = Field(default=30, ge=1)
    api_logs_days: int = Field(default=90, ge=1, description="Also erp_push_attempts and finished requests")
    interval_s: float = Field(default=21600.0, gt=0)


class Settings(ServiceSettingsMixin, TokenVerifierSettingsMixin, FileSettings):
    model_config = SettingsConfigDict(env_prefix="ERP_CONNECTOR_", env_nested_delimiter="__", extra="ignore")

    port: int = 8104
    erp: ErpSettings
    pull: PullSettings = PullSettings()
    push: PushSettings = PushSettings()
    retention: ErpRetention = ErpRetention()
    run_on_start: bool = Field(default=False, description="Pull and push once at start-up")
    consumer_group: str = "erp-connector"

    @model_validator(mode="after")
    def _erp_password_is_real(self) -> Settings:
        refuse_placeholder(self.env, "erp.password", self.erp.password)
        return self
