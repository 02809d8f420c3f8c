"""ingest settings: env prefix INGEST_, nested with '__' (INGEST_POSTGRES__PASSWORD)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

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
    # PEM (PKCS#8) Ed25519 private key, mode 0600: only ingest signs tokens. Read at start-up.
    token_signing_key_file: Path = Field(description="Ed25519 private key that signs tokens; no default")
    # Published in the JWKS besides the signing key (public or private PEM): the next key before a rotation,
    # the previous one after it until its last token expired (docs/runbook.md, "Rotating the signing key").
    # Comma-separated in the environment: INGEST_TOKEN_PUBLISHED_KEY_FILES=/keys/next.pem,/keys/previous.pem
    token_published_key_files: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    token_ttl_s: int = Field(default=900, ge=60, le=86400)
    max_body_bytes: int = 8 * 1024 * 1024
    max_rows_per_batch: int = 10_000
    login_failures_per_minute: int = Field(default=10, ge=1, description="Failed logins per client id")
    # Failed logins per source address (guesses spread over many client ids), as the edge reports it.
    login_source_failures_per_minute: int = Field(default=30, ge=1)
    login_source_failures_per_day: int = Field(default=1000, ge=1)
    # Peers whose X-Real-IP / X-Forwarded-For is believed (the edge); anyone else is its own source.
    trusted_proxies: list[str] = Field(default=["127.0.0.1/32", "::1/128"])
    update_time_max_skew_s: int = Field(
        default=300, ge=0, le=86400, description="A report's update_time may be at most this far ahead of now"
    )
    retention: IngestRetention = IngestRetention()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry at start-up
        return value

    # How often one process writes a client's last-seen time at most (the alert threshold is 15 min).
    last_seen_every_s: float = Field(default=30, ge=0, le=300)

    @field_validator("token_published_key_files", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
