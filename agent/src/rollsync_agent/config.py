"""SyncConfig.json (seed 000's keys, plus `statusPage` and a few optional agent keys) as typed settings."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SECRET_ENV = "ROLLSYNC_AGENT_CLIENT_SECRET"
_SIZE = re.compile(r"^\s*(\d+)\s*(KB|MB|GB|B)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the fix."""


class _Section(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)


class CloudApi(_Section):
    base_url: str = Field(alias="baseUrl")
    client_id: str = Field(alias="clientId")
    client_secret: str = Field(default="", alias="clientSecret")
    timeout: int = Field(default=30000, gt=0, description="milliseconds, as in the seed")

    @property
    def timeout_s(self) -> float:
        return self.timeout / 1000


class Database(_Section):
    connection_string: str = Field(alias="connectionString")
    sync_table_name: str = Field(default="hetong", alias="syncTableName")
    queue_table_name: str = Field(default="sync_queue", alias="queueTableName")
    process_columns: dict[str, str] = Field(
        default_factory=dict, alias="processColumns", description="cloud process name -> hetong column"
    )
    employee_table: EmployeeTable | None = Field(default=None, alias="employeeTable")


class EmployeeTable(_Section):
    """The factory's employee table; when configured, the agent uploads it under `employees:write`."""

    table_name: str = Field(alias="tableName")
    number_column: str = Field(default="工号", alias="numberColumn")
    name_column: str = Field(default="姓名", alias="nameColumn")
    workshop_column: str = Field(default="车间", alias="workshopColumn")
    processes_column: str = Field(
        default="可报工序", alias="processesColumn", description="process names separated by , ， or 、"
    )
    active_column: str = Field(default="在职", alias="activeColumn", description="1/0, true/false, 是/否")


class Sync(_Section):
    interval_minutes: float = Field(default=5, gt=0, alias="intervalMinutes")
    batch_size: int = Field(default=50, gt=0, le=1000, alias="batchSize")
    retry_count: int = Field(default=3, ge=0, alias="retryCount")
    enable_auto_sync: bool = Field(default=True, alias="enableAutoSync")
    capture_mode: Literal["scan", "queue"] = Field(default="scan", alias="captureMode")
    reconcile_hours: float = Field(default=24, gt=0, alias="reconcileHours")

    @property
    def interval_s(self) -> float:
        return self.interval_minutes * 60


class Logging(_Section):
    level: str = "Info"
    file_path: str = Field(default="./logs/sync.log", alias="filePath")
    max_file_size: str = Field(default="10MB", alias="maxFileSize")

    @field_validator("max_file_size")
    @classmethod
    def _size(cls, v: str) -> str:
        if not _SIZE.match(v):
            raise ValueError("maxFileSize must look like 10MB, 512KB or 1GB")
        return v

    @property
    def max_bytes(self) -> int:
        m = _SIZE.match(self.max_file_size)
        assert m is not None  # checked by the validator
        return int(m.group(1)) * _UNITS[(m.group(2) or "B").upper()]


class StatusPage(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    enabled: bool = True


class AgentConfig(_Section):
    cloud_api: CloudApi = Field(alias="cloudApi")
    database: Database
    sync: Sync = Field(default_factory=Sync)
    logging: Logging = Field(default_factory=Logging)
    status_page: StatusPage = Field(default_factory=StatusPage, alias="statusPage")
    state_file: str = Field(default="rollsync-agent.state", alias="stateFile")
    base_dir: Path = Field(default=Path("."), exclude=True)

    @property
    def state_path(self) -> Path:
        return self._resolve(self.state_file)

    @property
    def log_path(self) -> Path:
        return self._resolve(self.logging.file_path)

    def _resolve(self, name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() else self.base_dir / path


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def parse_config(data: object, base_dir: Path, env: dict[str, str] | None = None) -> AgentConfig:
    """Validate the JSON document; the secret may come from ROLLSYNC_AGENT_CLIENT_SECRET instead."""
    environ = os.environ if env is None else env
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a JSON object")
    try:
        config = AgentConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(f"SyncConfig.json: {_problems(exc)}") from exc
    secret = environ.get(SECRET_ENV) or config.cloud_api.client_secret
    if not secret:
        raise ConfigError(f"cloudApi.clientSecret is empty and {SECRET_ENV} is not set")
    api = config.cloud_api.model_copy(update={"client_secret": secret})
    return config.model_copy(update={"cloud_api": api})


def load_config(path: Path, env: dict[str, str] | None = None) -> AgentConfig:
    try:
        text = path.read_text(encoding="utf-8-sig")  # Windows editors like to add a BOM
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    return parse_config(data, path.resolve().parent, env)
