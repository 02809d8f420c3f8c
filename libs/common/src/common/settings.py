"""Settings shapes shared by every service (values come from each service's own prefix)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr, model_validator

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

    @model_validator(mode="after")
    def _secrets_are_real(self) -> ServiceSettingsMixin:
        refuse_placeholder(self.env, "postgres.password", self.postgres.password)
        if self.env is Environment.PROD and self.kafka.replication_factor < 3:
            raise ValueError("kafka.replication_factor must be >= 3 for env=prod")
        return self


class TokenSettingsMixin(BaseModel):
    """Services that check Bearer tokens share ingest's signing key, issuer and audience."""

    env: Environment = Environment.DEV
    token_secret: SecretStr = Field(description="HMAC key for access tokens; no default")
    token_issuer: str = "rollsync-ingest"
    token_audience: str = "rollsync"

    @model_validator(mode="after")
    def _token_secret_is_real(self) -> TokenSettingsMixin:
        refuse_placeholder(self.env, "token_secret", self.token_secret)
        return self
