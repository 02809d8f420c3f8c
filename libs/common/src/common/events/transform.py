"""Events produced by transform."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class ContractStandardized(BaseModel):
    """A contract line has a new standardized form; rules turns 甲方 into a customer candidate."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    contract_no: str
    product_id: str
    version: int = Field(ge=1)
    party_a: str | None = Field(description="甲方: the customer company")
    product_name: str | None
    contract_status: str | None
    progress_percentage: Decimal
    current_process: str | None


class ProcessChanged(BaseModel):
    """A process definition changed in transform's catalogue (added, renamed, aliased, retired). Full state.

    Key: the process id. `version` grows by one per change of that process: a consumer keeps only a higher
    version than it holds, so duplicates and reordering never move a process backwards."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    process_id: int = Field(ge=1, description="Stable id; survives renames")
    version: int = Field(ge=1, description="Monotonic per process")
    name: str = Field(description="The cloud's name, NFKC-normalised, e.g. 热喷涂")
    aliases: list[str] = Field(
        default_factory=list, description="Other names the local system's columns use for this process"
    )
    former_names: list[str] = Field(
        default_factory=list, description="Names it had before a rename; they keep resolving to it"
    )
    active: bool = Field(description="False once retired: no route may use it")
    change: str = Field(
        description="added | renamed | aliases_changed | retired | announced (first publication)"
    )
