"""Settings shapes shared by every service (values come from each service's own prefix).

Any setting can also come from a file: `<PREFIX><NAME>_FILE=/path` sets `<PREFIX><NAME>` to the file's content
(one trailing newline dropped), nested names included (`INGEST_POSTGRES__PASSWORD_FILE`). Start commands pass
secrets this way, so no secret is in a process's environment, its command line or a log of either.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

from common.gc_tuning import GcSettings

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "secret", "password", "your_secure_secret"})


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class KafkaSettings(BaseModel):
    """Where the broker is and how we talk to it. Delivery-safety knobs are not settings."""

    bootstrap_servers: str = "127.0.0.1:19092"
    client_id: str = "rollsync"
    partitions: int = Field(default=3, ge=1, description="Partitions for topics we create")
    replication_factor: int = Field(default=1, ge=1)


class PostgresSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 55432
    database: str = "rollsync"
    user: str
    password: SecretStr
    pool_min: int = 2
    pool_max: int = 10


class RetrySettings(BaseModel):
    """Bounded in-place retry before a message is dead-lettered (DELIVERY.md §6)."""

    max_attempts: int = Field(default=5, ge=1)
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0


class RetentionSettings(BaseModel):
    """How long the delivery plumbing keeps rows (DELIVERY.md §3, §4, §9); services add their own tables."""

    interval_s: float = Field(default=3600.0, gt=0, description="Time between pruning rounds")
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Rows per delete transaction")
    outbox_sent_days: int = Field(
        default=7, ge=1, description="Sent outbox rows; unsent rows are never pruned"
    )
    inbox_days: int = Field(
        default=40,
        ge=37,
        description="Inbox and attempt rows: >= topic retention (7 d) + DLQ replay window (30 d)",
    )


class Limit(BaseModel):
    per_minute: int = Field(ge=1, description="Requests per minute (fixed window)")
    per_day: int = Field(ge=1, description="Requests per UTC day")


class RateLimitSettings(BaseModel):
    """`<PREFIX>RATE_LIMIT__PER_MINUTE`, `__PER_DAY`; per-client exceptions as JSON in `__CLIENTS`:
    `{"agent-factory-1": {"per_minute": 1200, "per_day": 500000}}`. ingest takes each client's own limits
    from its `clients` row instead (managed by its CLI)."""

    per_minute: int = Field(default=120, ge=1, description="Requests per client per minute")
    per_day: int = Field(default=50_000, ge=1, description="Requests per client per UTC day")
    clients: dict[str, Limit] = Field(default_factory=dict, description="Per-client exceptions")

    def for_client(self, client_id: str) -> Limit:
        return self.clients.get(client_id) or Limit(per_minute=self.per_minute, per_day=self.per_day)


def refuse_placeholder(env: Environment, name: str, secret: SecretStr) -> None:
    """Outside dev/test a secret must be a real one: an empty or well-known value stops startup."""
    value = secret.get_secret_value()
    if env is Environment.PROD and (value.lower() in PLACEHOLDER_SECRETS or len(value) < 12):
        raise ValueError(f"{name} is a placeholder or too short; set a real secret for env=prod")


class ServiceSettingsMixin(BaseModel):
    """Fields every service has; each service's Settings adds its own and its env prefix."""

    env: Environment = Environment.DEV
    host: str = "127.0.0.1"
    port: int
    log_level: str = "INFO"
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings
    retry: RetrySettings = RetrySettings()
    retention: RetentionSettings = RetentionSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()  # per client, in the shared request path
    gc: GcSettings = GcSettings()  # common.gc_tuning: the collector, tuned for batch work

    @model_validator(mode="after")
    def _secrets_are_real(self) -> ServiceSettingsMixin:
        refuse_placeholder(self.env, "postgres.password", self.postgres.password)
        if self.env is Environment.PROD and self.kafka.replication_factor < 3:
            raise ValueError("kafka.replication_factor must be >= 3 for env=prod")
        return self


class TokenSettingsMixin(BaseModel):
    """Issuer and audience of access tokens: ingest signs them, every service checks them."""

    token_issuer: str = "rollsync-ingest"
    token_audience: str = "rollsync"


class TokenVerifierSettingsMixin(TokenSettingsMixin):
    """Services other than ingest verify tokens with ingest's public keys only: no signing key, no secret."""

    token_jwks_url: str = Field(
        description="ingest's JWKS document, e.g. http://ingest:8101/.well-known/jwks.json; no default",
        pattern=r"^https?://",
    )
    token_revocations_url: str | None = Field(
        default=None,
        description="ingest's revocation list; default: /internal/token-revocations beside the JWKS",
    )
    token_jwks_max_age_s: float = Field(
        default=300.0, gt=0, le=86400, description="Keys are read again this often (a retired key drops out)"
    )
    token_jwks_min_refetch_s: float = Field(
        default=1.0, ge=0, le=300, description="An unknown key id refetches the keys at most this often"
    )
    token_revocations_poll_s: float = Field(
        default=2.0, gt=0, le=60, description="How often the revocation list is read (the revocation bound)"
    )
    token_revocations_max_stale_s: float = Field(
        default=60.0, gt=0, le=3600, description="Older than this, every token is answered 503 (fail closed)"
    )


FILE_SUFFIX = "_FILE"


def _field(model: type[BaseModel], loc: list[str]) -> FieldInfo | None:
    """The field at `loc` (lower-case names, nested through sub-models), or None when none is declared."""
    current: Any = model
    found = None
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        found = current.model_fields.get(part)
        if found is None:
            return None
        current = found.annotation
    return found


def read_secret_file(variable: str, path: str) -> str:
    """The content of the file `variable` names; errors name the variable and the path, never a value."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from exc
    value = text.removesuffix("\n").removesuffix("\r")
    if not value:
        raise SettingsError(f"{variable}: {path} is empty")
    return value


class FileValuesSource(PydanticBaseSettingsSource):
    """`<PREFIX><NAME>_FILE` environment variables, each read from its file into `<NAME>`.

    A setting that is itself declared with a name ending in `_file` (a path the service opens, such as a key
    file) is left to the environment source: its variable is a value, not a pointer to one.
    """

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._prefix = str(settings_cls.model_config.get("env_prefix") or "").upper()
        self._delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "").upper()

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every variable at once

    def _location(self, name: str) -> list[str]:
        parts = name.split(self._delimiter) if self._delimiter else [name]
        return [p.lower() for p in parts]

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        environ = {k.upper(): v for k, v in os.environ.items()}
        for variable, path in sorted(environ.items()):
            if not (variable.startswith(self._prefix) and variable.endswith(FILE_SUFFIX)):
                continue
            loc = self._location(variable[len(self._prefix) : -len(FILE_SUFFIX)])
            if _field(self.settings_cls, [*loc[:-1], loc[-1] + "_file"]) is not None:
                continue  # a declared path setting: the environment source reads it as it is
            if not loc[-1] or _field(self.settings_cls, loc) is None:
                continue  # no such setting (extra variables are ignored, as without _FILE)
            direct = variable.removesuffix(FILE_SUFFIX)
            if direct in environ:
                raise SettingsError(f"both {direct} and {variable} are set; set one of them")
            target = values
            for part in loc[:-1]:
                target = target.setdefault(part, {})
            target[loc[-1]] = read_secret_file(variable, path)
        return values


class FileSettings(BaseSettings):
    """BaseSettings plus `<NAME>_FILE` variables; every service's Settings derives from it."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            FileValuesSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )
