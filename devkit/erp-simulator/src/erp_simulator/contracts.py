"""Stored contracts (合同) and their product lines."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from erp_simulator.id_allocation import IdAllocator

FIRST_CONTRACT_ORD = 5001


@dataclass
class ContractLine:
    title: str
    order1: str
    type1: str
    unit: str
    num1: int
    price1: str
    money1: str
    date2: str


@dataclass
class ContractRecord:
    ord: int
    # Keyed by the save ids of section 8 (company, htid, title, date3, ...) plus the read-only
    # progress values hkmoney, spzt, spman, urgent, ckjz, fhjz, skjz and kpjz.
    fields: dict[str, str]
    added_at: datetime
    modified_at: datetime
    lines: list[ContractLine] = field(default_factory=list)
    save_count: int = 0

    def get(self, field_id: str) -> str:
        return self.fields.get(field_id, "")


class ContractStore:
    def __init__(self) -> None:
        self._records: dict[int, ContractRecord] = {}
        self.ids = IdAllocator(FIRST_CONTRACT_ORD)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[ContractRecord]:
        return iter(self._records.values())

    def get(self, ord_: int) -> ContractRecord | None:
        return self._records.get(ord_)

    def put(self, record: ContractRecord) -> None:
        self._records[record.ord] = record
        self.ids.consume(record.ord)
        self.ids.skip_to(record.ord + 1)
