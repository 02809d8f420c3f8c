"""Content hashes of pulled customers: a write is a new or changed customer at its next version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from erp_connector.domain.customer import ErpCustomer


@dataclass(frozen=True, slots=True)
class HashWrite:
    customer: ErpCustomer
    version: int

    @property
    def is_new(self) -> bool:
        return self.version == 1


def next_version(stored: tuple[str, int] | None, customer: ErpCustomer) -> HashWrite | None:
    """None when the stored hash is the customer's (unchanged); else the write at the next version."""
    if stored is not None and stored[0] == customer.content_hash:
        return None
    return HashWrite(customer, stored[1] + 1 if stored else 1)
