"""Stored customers: the simulator's single source of truth for customer rows."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from erp_simulator.id_allocation import IdAllocator

FIRST_CUSTOMER_ORD = 1001


@dataclass
class CustomerRecord:
    ord: int
    intsort: int
    # Keyed by ASP field id (name, khid, sort1, person_name, ...) plus the internal keys
    # follow_level (跟进程度, V3 `sort1`), telintro (洽谈进展) and cateid (销售人员).
    fields: dict[str, str]
    added_at: datetime
    # Never exposed by the emulated API: the real ERP offers no modified-since filter.
    modified_at: datetime
    person_id: int
    save_count: int = 0

    def get(self, field_id: str) -> str:
        return self.fields.get(field_id, "")


class CustomerStore:
    def __init__(self) -> None:
        self._records: dict[int, CustomerRecord] = {}
        self.ids = IdAllocator(FIRST_CUSTOMER_ORD)
        self._last_person_id = 50000

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[CustomerRecord]:
        return iter(self._records.values())

    def get(self, ord_: int) -> CustomerRecord | None:
        return self._records.get(ord_)

    def put(self, record: CustomerRecord) -> None:
        self._records[record.ord] = record
        self.ids.consume(record.ord)
        self.ids.skip_to(record.ord + 1)
        self._last_person_id = max(self._last_person_id, record.person_id)

    def has_duplicate(self, field_id: str, value: str, except_ord: int) -> bool:
        wanted = value.strip()
        if not wanted:
            return False
        return any(r.ord != except_ord and r.get(field_id).strip() == wanted for r in self._records.values())

    def next_person_id(self) -> int:
        return self._last_person_id + 1
