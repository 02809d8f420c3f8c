"""transform settings: env prefix TRANSFORM_, nested with '__' (TRANSFORM_POSTGRES__PASSWORD)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from common.settings import FileSettings, RetentionSettings, ServiceSettingsMixin, TokenVerifierSettingsMixin


class TransformRetention(RetentionSettings):
    feed_days: int = Field(
        default=30,
        ge=1,
        description="Feed horizon: older changes are pruned (each line's newest stays); older cursors get 410",
    )


class Settings(ServiceSettingsMixin, TokenVerifierSettingsMixin, FileSettings):
    model_config = SettingsConfigDict(env_prefix="TRANSFORM_", env_nested_delimiter="__", extra="ignore")

    port: int = 8102
    # One process can run both consumers, or each its own: a history import's CPU work then never delays
    # a worker's progress report (the HTTP read side is served by every role).
    role: Literal["all", "lines", "progress"] = "all"
    # Lines per consumer transaction. 1 000 rather than 500: 2 272 / 2 436 against 2 117 / 2 000 lines/s in
    # interleaved 10 000-line imports (issue 12); 2 000 gained nothing more. Reports never wait for an import's
    # transaction (the feed is commit-ordered), only for the locks of the contracts it holds.
    import_batch_size: int = Field(default=1000, ge=1, le=5000)
    progress_batch_size: int = Field(default=50, ge=1, le=500)
    feed_overlap_s: int = Field(default=300, ge=0, description="Timestamp `since` is widened by this")
    config_reload_s: float = Field(default=30.0, gt=0)
    # The scheduled consistency check (rollsync_consistency_findings, alert RollsyncConsistencyFindings).
    consistency_check_s: float = Field(default=3600.0, gt=0)
    consistency_first_check_s: float = Field(default=300.0, ge=0, description="After start (≤ the interval)")
    # A reconciliation digest is ~150 bytes per contract: 20 000 contracts fit in 4 MiB.
    max_body_bytes: int = 4 * 1024 * 1024
    reconcile_max_contracts: int = Field(default=20_000, ge=1, le=100_000)
    retention: TransformRetention = TransformRetention()
