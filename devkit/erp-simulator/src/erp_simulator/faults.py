"""Run-time fault knobs and the seeded dice that decide when a fault fires."""

import random
from enum import Enum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from erp_simulator.settings import (
    DuplicateCheck,
    Permission,
    RateLimitMode,
    RowForm,
    SimulatorSettings,
)

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class FaultConfig(BaseModel):
    """Every knob of ``POST /_sim/faults``; a body may set any subset of them."""

    model_config = ConfigDict(extra="forbid")

    error_rate: Rate = 0.0
    html_error_rate: Rate = 0.0
    truncated_json_rate: Rate = 0.0
    reset_rate: Rate = 0.0
    timeout_rate: Rate = 0.0
    hang_seconds: float = Field(default=60.0, ge=0)
    latency_ms_min: float = Field(default=0.0, ge=0)
    latency_ms_max: float = Field(default=0.0, ge=0)
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    rate_limit_mode: RateLimitMode = "envelope"
    throttle_rate: Rate = 0.0
    throttle_retry_after_s: int = Field(default=1, ge=1)
    silent_drop_rate: Rate = 0.0
    partial_save_rate: Rate = 0.0
    lost_reply_rate: Rate = 0.0
    lost_reply_mode: Literal["http500", "reset"] = "http500"
    expire_after_pages: int | None = Field(default=None, ge=1)
    permission: dict[str, Permission] = Field(default_factory=dict)
    row_form: RowForm = "array"
    duplicate_check: DuplicateCheck = "off"

    @model_validator(mode="after")
    def _latency_range(self) -> Self:
        if self.latency_ms_max < self.latency_ms_min:
            raise ValueError("latency_ms_max must not be below latency_ms_min")
        return self

    def patched(self, patch: dict[str, Any]) -> "FaultConfig":
        """Apply a partial update; ``permission`` merges per user instead of replacing."""
        data = self.model_dump()
        permission = patch.get("permission")
        if isinstance(permission, dict):
            patch = {**patch, "permission": {**self.permission, **permission}}
        data.update(patch)
        return FaultConfig.model_validate(data)


def initial_faults(settings: SimulatorSettings) -> FaultConfig:
    return FaultConfig(
        hang_seconds=settings.hang_seconds,
        latency_ms_min=settings.latency_ms_min,
        latency_ms_max=settings.latency_ms_max,
        rate_limit_per_second=settings.rate_limit_per_second,
        rate_limit_mode=settings.rate_limit_mode,
        permission={user.name: user.permission for user in settings.api_users()},
        row_form=settings.row_form,
        duplicate_check=settings.duplicate_check,
    )


class RequestFault(Enum):
    """Faults decided before the handler runs, so nothing is applied."""

    TIMEOUT = "timeout"
    RESET = "reset"
    ERROR = "error"
    HTML_ERROR = "html_error"


class WriteFault(Enum):
    SILENT_DROP = "silent_drop"
    PARTIAL_SAVE = "partial_save"
    LOST_REPLY = "lost_reply"


class FaultDice:
    """One seeded stream per fault kind. Which draw of a kind hits then depends only on the seed and on
    how often that kind was drawn, not on how concurrent requests interleave their draws, so a test
    that makes N calls gets the same faults of each kind whatever the scheduling."""

    def __init__(self, seed: int) -> None:
        # Streams of their own, so seed data stays the same whichever faults a run draws.
        self._seed = seed
        self._streams: dict[str, random.Random] = {}

    def _stream(self, kind: str) -> random.Random:
        if kind not in self._streams:
            self._streams[kind] = random.Random(f"faults-{self._seed}-{kind}")
        return self._streams[kind]

    def hit(self, kind: str, rate: float) -> bool:
        return rate > 0 and self._stream(kind).random() < rate

    def latency_seconds(self, config: FaultConfig) -> float:
        if config.latency_ms_max <= 0:
            return 0.0
        return self._stream("latency").uniform(config.latency_ms_min, config.latency_ms_max) / 1000

    def request_fault(self, config: FaultConfig) -> RequestFault | None:
        rates = (
            (RequestFault.TIMEOUT, config.timeout_rate),
            (RequestFault.RESET, config.reset_rate),
            (RequestFault.ERROR, config.error_rate),
            (RequestFault.HTML_ERROR, config.html_error_rate),
        )
        return next((fault for fault, rate in rates if self.hit(fault.value, rate)), None)

    def write_fault(self, config: FaultConfig) -> WriteFault | None:
        rates = (
            (WriteFault.SILENT_DROP, config.silent_drop_rate),
            (WriteFault.PARTIAL_SAVE, config.partial_save_rate),
            (WriteFault.LOST_REPLY, config.lost_reply_rate),
        )
        return next((fault for fault, rate in rates if self.hit(fault.value, rate)), None)

    def drop_some(self, fields: dict[str, str], keep: tuple[str, ...]) -> dict[str, str]:
        """Keep the ``keep`` fields and lose at least one of the others, if there are any."""
        optional = sorted(key for key in fields if key not in keep)
        if not optional:
            return dict(fields)
        stream = self._stream("drop_some")
        lost = set(stream.sample(optional, stream.randint(1, len(optional))))
        return {key: value for key, value in fields.items() if key not in lost}
