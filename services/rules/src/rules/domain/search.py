"""What sales staff search customers by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Search:
    name: str | None = None  # part of the company or the person's name
    phone: str | None = None  # digits the phone starts with
    region: str | None = None  # part of the address (省/市/区)
    min_quality: int | None = None
    max_quality: int | None = None
    status: str | None = None  # erp_sync_status
    limit: int = 50
    offset: int = 0
