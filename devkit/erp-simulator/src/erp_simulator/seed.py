"""Deterministic synthetic customers for the seed and for bulk inserts (DOMAIN.md section 7)."""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

from erp_simulator.customer_fields import FOLLOW_LEVEL, TALK_PROGRESS
from erp_simulator.customers import CustomerRecord
from erp_simulator.enums import (
    CATEGORIES,
    ENUM_SOURCE,
    ENUM_TRADE,
    ENUM_VALUE,
    FOLLOW_LEVELS,
    EnumCatalog,
)
from erp_simulator.sales_team import SalesTeam
from erp_simulator.vocabulary import (
    BANKS,
    CITIES,
    DEPARTMENTS,
    GIVEN_NAMES,
    JOBS,
    REMARKS,
    ROADS,
    SUFFIXES,
    SURNAMES,
    TALK_PROGRESS_TEXTS,
    TRADE_NAME_CHARS,
)

SEED_EPOCH = datetime(2021, 3, 1, 9, 0, 0)
_CATEGORY_BY_SUFFIX = {"彩印": "101", "印务": "101", "软包装": "102", "薄膜科技": "103"}


@dataclass(frozen=True)
class CustomerFactory:
    rng: random.Random
    catalog: EnumCatalog
    team: SalesTeam
    used_names: set[str]

    def stream(
        self, first_ord: int, first_person: int, start: datetime, mean_gap_minutes: int
    ) -> Iterator[CustomerRecord]:
        """Endless customers with rising ords (small gaps, as after deletions) and add-times."""
        ord_, added = first_ord, start
        for person_id in count(first_person):
            yield self.customer(ord_, person_id, added)
            ord_ += self.rng.choice((1, 1, 1, 2, 3))
            added += timedelta(minutes=self.rng.randint(1, 2 * max(mean_gap_minutes, 1)))

    def customer(self, ord_: int, person_id: int, added: datetime) -> CustomerRecord:
        city = self.rng.choice(list(CITIES))
        area_code, zip_code, districts = CITIES[city]
        suffix = self.rng.choice(SUFFIXES)
        mobile = self.mobile()
        fields = {
            "name": self.company_name(city, suffix),
            # About 80% of real customers carry no code (section 1).
            "khid": f"C{ord_:06d}" if self.rng.random() < 0.2 else "",
            "sort1": _CATEGORY_BY_SUFFIX.get(suffix, self.rng.choice(CATEGORIES)[0]),
            FOLLOW_LEVEL: self.rng.choice(FOLLOW_LEVELS)[0],
            "ly": str(self.catalog.value_of(ENUM_SOURCE, self.rng.choice(("朋友介绍", "陌生开发")))),
            "trade": str(self.catalog.value_of(ENUM_TRADE, "印刷")),
            "jz": str(self.rng.choice(self.catalog.enums[ENUM_VALUE])[0]),
            "bz": "14",
            "cateid": self.rng.choice(self.team.ids()),
            "person_name": self.person_name(),
            "job": self.rng.choice(JOBS),
            "part1": self.rng.choice(DEPARTMENTS),
            "mobile": mobile,
            "phone": self.maybe(0.6, f"{area_code}-{self.digits(8, lead='2345678')}"),
            "fax": self.maybe(0.2, f"{area_code}-{self.digits(8, lead='2345678')}"),
            "email": self.maybe(0.3, f"cg{ord_}@example.com"),
            "weixinAcc": self.maybe(0.4, f"wx{mobile}"),
            "qq": self.maybe(0.2, self.digits(self.rng.randint(8, 10), lead="123456789")),
            "address": f"{city}市{self.rng.choice(districts)}{self.rng.choice(ROADS)}"
            f"{self.rng.randint(1, 300)}号",
            "zip": zip_code,
            "intro": self.rng.choice(REMARKS),
            TALK_PROGRESS: self.rng.choice(TALK_PROGRESS_TEXTS),
            "bank_1": self.maybe(0.5, f"{self.rng.choice(BANKS)}{city}分行"),
            "bank_2": self.maybe(0.5, self.digits(19, lead="6")),
            "bank_4": self.maybe(0.5, f"91{self.digits(16)}"),
        }
        modified = added + timedelta(days=self.rng.randint(0, 400))
        stored = {key: value for key, value in fields.items() if value}
        return CustomerRecord(ord_, 1, stored, added, modified, person_id, save_count=1)

    def company_name(self, city: str, suffix: str) -> str:
        for _ in range(20):
            trade_name = "".join(self.rng.sample(TRADE_NAME_CHARS, 2))
            name = f"{city}{trade_name}{suffix}有限公司"
            if name not in self.used_names:
                break
        for branch in count(2):
            if name not in self.used_names:
                break
            name = f"{city}{trade_name}{suffix}有限公司第{branch}分厂"
        self.used_names.add(name)
        return name

    def person_name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)

    def mobile(self) -> str:
        return "1" + self.rng.choice("3456789") + self.digits(9)

    def digits(self, n: int, lead: str = "0123456789") -> str:
        return self.rng.choice(lead) + "".join(self.rng.choices("0123456789", k=n - 1))

    def maybe(self, probability: float, value: str) -> str:
        return value if self.rng.random() < probability else ""
