"""All mutable simulator state, created by ``create_app`` and replaced by ``/_sim/reset``."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from erp_simulator.contract_listing import contract_columns
from erp_simulator.contract_seed import generate_contracts
from erp_simulator.contracts import ContractRecord, ContractStore
from erp_simulator.counters import Counters
from erp_simulator.customer_listing import customer_columns
from erp_simulator.customers import CustomerRecord, CustomerStore
from erp_simulator.enums import EnumCatalog, build_catalog
from erp_simulator.faults import FaultConfig, FaultDice, initial_faults
from erp_simulator.listing import Column
from erp_simulator.login import LoginGate
from erp_simulator.rate_limit import RateLimiter
from erp_simulator.sales_team import SalesTeam, build_sales_team
from erp_simulator.seed import SEED_EPOCH, CustomerFactory
from erp_simulator.sessions import Session, SessionRegistry
from erp_simulator.settings import ApiUser, SimulatorSettings

# Seeded history ends here; records saved during a run get the wall-clock time.
SEED_UNTIL = datetime(2024, 6, 30, 18, 0, 0)


@dataclass(frozen=True)
class SeedSpec:
    seed: int
    customers: int
    contracts: int
    enum_shuffle: bool


class SimulatorState:
    def __init__(self, settings: SimulatorSettings, now: Callable[[], datetime] = datetime.now) -> None:
        self.settings = settings
        self.now = now
        self.users: dict[str, ApiUser] = {user.name: user for user in settings.api_users()}
        self.team: SalesTeam = build_sales_team(u.sales_person for u in self.users.values())
        self.limiter = RateLimiter()
        self.reset(default_seed_spec(settings))

    def reset(self, spec: SeedSpec) -> None:
        self.seed_spec = spec
        self.catalog: EnumCatalog = build_catalog(spec.seed, spec.enum_shuffle)
        self.customers = CustomerStore()
        self.contracts = ContractStore()
        self._populate(spec)
        if self.settings.ords_from_clock:
            self.customers.ids.skip_to(int(time.time() * 1000))
        self.customer_columns: list[Column[CustomerRecord]] = customer_columns(self.team)
        self.contract_columns: list[Column[ContractRecord]] = contract_columns(self.team, self.customer_name)
        self.faults: FaultConfig = initial_faults(self.settings)
        self.dice = FaultDice(spec.seed)
        self.counters = Counters()
        self.sessions = SessionRegistry(
            self.settings.session_ttl_seconds,
            self.settings.single_session_per_user,
            self.settings.session_expired_message,
        )
        self.login_gate = LoginGate(
            self.users,
            self.sessions,
            self.counters,
            self.settings.lockout_threshold,
            self.settings.captcha,
        )
        self.limiter.clear()

    def can_see(self, session: Session, cateid: str) -> bool:
        permission = self.faults.permission.get(session.user.name, session.user.permission)
        if permission == "all":
            return True
        return permission == "own" and cateid == self.team.id_of(session.user.sales_person)

    def customer_name(self, ord_text: str) -> str:
        record = self.customers.get(int(ord_text)) if ord_text.isdigit() else None
        return record.get("name") if record else ""

    def customer_factory(self, salt: str) -> CustomerFactory:
        rng = random.Random(f"{salt}-{self.seed_spec.seed}")
        used_names = {record.get("name") for record in self.customers}
        return CustomerFactory(rng, self.catalog, self.team, used_names)

    def add_generated_customers(self, count: int) -> list[int]:
        """Bulk insert for pull benchmarks; the new customers were "added" after all others."""
        latest = max((record.added_at for record in self.customers), default=SEED_EPOCH)
        factory = self.customer_factory(f"bulk-{len(self.customers)}")
        first_ord = self.customers.ids.take()
        stream = factory.stream(first_ord, self.customers.next_person_id(), latest + timedelta(minutes=1), 10)
        inserted = []
        for record in islice(stream, count):
            self.customers.put(record)
            inserted.append(record.ord)
        return inserted

    def _populate(self, spec: SeedSpec) -> None:
        factory = self.customer_factory("customers")
        # Spread the seed over the seeded history whatever the count.
        history_minutes = int((SEED_UNTIL - SEED_EPOCH).total_seconds() // 60)
        mean_gap = history_minutes // (spec.customers + 1)
        stream = factory.stream(self.customers.ids.take(), 50001, SEED_EPOCH, mean_gap)
        for record in islice(stream, spec.customers):
            self.customers.put(record)
        rng = random.Random(f"contracts-{spec.seed}")
        seeded = list(self.customers)
        first = self.contracts.ids.take()
        for contract in generate_contracts(rng, seeded, spec.contracts, first, SEED_UNTIL):
            self.contracts.put(contract)


def default_seed_spec(
    settings: SimulatorSettings,
    seed: int | None = None,
    customers: int | None = None,
    contracts: int | None = None,
    enum_shuffle: bool | None = None,
) -> SeedSpec:
    """The settings' seed, with any given value replacing the configured one."""
    customers = settings.customers if customers is None else customers
    contracts = settings.contracts if contracts is None else contracts
    return SeedSpec(
        seed=settings.seed if seed is None else seed,
        customers=customers,
        contracts=customers * 3 // 5 if contracts is None else contracts,
        enum_shuffle=settings.enum_shuffle if enum_shuffle is None else enum_shuffle,
    )
