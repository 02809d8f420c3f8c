"""One page of the customer list."""

from __future__ import annotations

from dataclasses import dataclass

from erp_connector.domain.customer import ErpCustomer


@dataclass(frozen=True, slots=True)
class CustomerPage:
    index: int
    page_count: int
    customers: list[ErpCustomer]

    @property
    def is_last(self) -> bool:
        """Stop when rows come back empty or the index reaches page.pagecount (§6). Without a
        pagecount, keep going until an empty page: ending early would flag the rest as not visible."""
        return not self.customers or 0 < self.page_count <= self.index
