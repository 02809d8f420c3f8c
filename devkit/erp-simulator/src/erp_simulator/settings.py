"""Typed settings of the simulator, read from ``ERP_SIMULATOR_*`` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RateLimitMode = Literal["envelope", "http429", "http503"]
Permission = Literal["all", "own", "none"]
RowForm = Literal["array", "object"]
DuplicateCheck = Literal["off", "name", "khid"]

# A development kit only: this default exists so `python -m erp_simulator` works on a laptop
# with no setup. It never guards anything real; production code never reads this package.
DEV_PASSWORD = "dev-password"


class ApiUser(BaseModel):
    """One ERP login the simulator accepts."""

    name: str
    password: SecretStr
    # Rows count as this user's own when their 销售人员 (catename) equals this name.
    sales_person: str
    permission: Permission = "all"


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERP_SIMULATOR_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8190
    seed: int = 42
    customers: int = Field(default=200, ge=0)
    # None: about 60% of the customer count, like a factory with some repeat buyers.
    contracts: int | None = Field(default=None, ge=0)
    enum_shuffle: bool = False
    # New ords (allocations, saves without one, bulk inserts) start at the wall clock in milliseconds, so a
    # restarted simulator never hands out an ord an earlier run gave to another customer. The real ERP never
    # re-issues an ord, and rollsync's database, which outlives this in-memory store, relies on that.
    ords_from_clock: bool = False

    user: str = "rollsync"
    password: SecretStr = SecretStr(DEV_PASSWORD)
    # The password from a file (ERP_SIMULATOR_PASSWORD_FILE), so start commands never carry it.
    password_file: Path | None = None
    sales_person: str = "陈静"
    extra_users: list[ApiUser] = Field(default_factory=list)

    session_ttl_seconds: float = Field(default=7200.0, gt=0)
    single_session_per_user: bool = False
    session_expired_message: str = "登录超时或未登录"
    lockout_threshold: int = Field(default=3, ge=1)
    captcha: str = "8888"

    page_size: int = Field(default=20, ge=1)
    v3_required_fields: list[str] = Field(default_factory=lambda: ["name"])

    # Starting values of the run-time fault knobs; POST /_sim/reset returns to them.
    latency_ms_min: float = Field(default=0.0, ge=0)
    latency_ms_max: float = Field(default=50.0, ge=0)
    hang_seconds: float = Field(default=60.0, ge=0)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    rate_limit_mode: RateLimitMode = "envelope"
    row_form: RowForm = "array"
    duplicate_check: DuplicateCheck = "off"

    log_level: str = "warning"

    @model_validator(mode="after")
    def _password_from_file(self) -> "SimulatorSettings":
        if self.password_file is not None:
            self.password = SecretStr(self.password_file.read_text(encoding="utf-8").removesuffix("\n"))
        return self

    def api_users(self) -> list[ApiUser]:
        integration = ApiUser(name=self.user, password=self.password, sales_person=self.sales_person)
        return [integration, *self.extra_users]
