"""Events produced by ingest (the HTTP edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class HetongRowChanged(BaseModel):
    """A `hetong` line (合同编号 + 产品ID) was accepted with new content. Full state, not a diff."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    contract_no: str = Field(description="合同编号, normalised")
    product_id: str = Field(description="产品ID, normalised")
    version: int = Field(ge=1, description="Monotonic per line; consumers apply only newer versions")
    content_hash: str = Field(description="SHA-256 of the canonical row")
    row: dict[str, Any] = Field(description="Every column exactly as received (Chinese names)")
    source: str = Field(description="Client-declared source, e.g. local_system")
    client_id: str
    received_at: datetime
    deleted: bool = Field(
        default=False, description="True when the line was deleted at the source; row is then empty"
    )


class ProgressReported(BaseModel):
    """A worker reported one process status for a contract (seed 000 PUT .../progress)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    contract_no: str
    product_id: str | None = Field(default=None, description="Only this line when given")
    process: str = Field(description="Process column name, e.g. 热喷涂")
    status: str = Field(description="Status word as reported, e.g. 已完成")
    version: int = Field(ge=1, description="Monotonic per (contract, process)")
    updated_by: str
    update_time: datetime = Field(
        description="When the worker says it happened (bounded by ingest's skew check)"
    )
    client_id: str
    received_at: datetime | None = Field(
        default=None,
        description="When ingest accepted the report (server clock): compared with HetongRowChanged.received_at",
    )
    reporter_flag: str | None = Field(
        default=None,
        description="unknown (updated_by is not on the employee list) or inactive; None for an active employee",
    )


class EmployeeChanged(BaseModel):
    """An employee of the factory's list (seed 000, `employees:write`) was created or changed. Full state.

    Key: the employee number. `version` grows by one per change: consumers keep only a higher version."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: str = Field(description="工号, as uploaded")
    version: int = Field(ge=1, description="Monotonic per employee")
    name: str
    workshop: str
    processes: list[str] = Field(description="The processes this person may report, as uploaded")
    active: bool
