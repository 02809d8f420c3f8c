"""What the agent shows about itself: one snapshot, read by the status page, `status` CLI and state store.

The run loop owns the live snapshot; the page and the CLI only read it (GET /status.json is this model).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SyncState = Literal["disconnected", "syncing", "ok", "failed"]


class RejectedRow(BaseModel):
    """A line the cloud refused in the last upload; the clerk fixes it in the factory system."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    contract_no: str = Field(description="合同编号 as read from the factory table")
    product_id: str = Field(description="产品ID as read from the factory table")
    reason: str = Field(description="The cloud's stable rejection code, e.g. invalid_date")
    message: str = Field(description="The cloud's human-readable explanation")
    at: datetime = Field(description="When the cloud rejected it")


class ErrorEntry(BaseModel):
    """One recent failure of a sync round (network, auth, database), newest last."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    at: datetime
    message: str


class StatusSnapshot(BaseModel):
    """The agent's state at one moment (seed 000 §3: 未连接 / 同步中 / 同步成功 / 同步失败)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    state: SyncState = Field(description="disconnected=未连接, syncing=同步中, ok=同步成功, failed=同步失败")
    message: str = Field(default="", description="One line for the clerk about the current state")
    last_upload_at: datetime | None = None
    last_upload_count: int = Field(default=0, ge=0, description="Lines sent in the last successful upload")
    last_download_at: datetime | None = None
    last_download_count: int = Field(default=0, ge=0, description="Updates written back in the last download")
    pending_local_changes: int = Field(default=0, ge=0, description="Changed local lines not yet accepted")
    rejected: list[RejectedRow] = Field(default_factory=list)
    recent_errors: list[ErrorEntry] = Field(default_factory=list)
    auth_failed: bool = Field(default=False, description="The cloud refused the client id/secret")
