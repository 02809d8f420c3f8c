"""erp_connector settings: env prefix ERP_CONNECTOR_, nested with '__' (ERP_CONNECTOR_POSTGRES__PASSWORD)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import ServiceSettingsMixin, TokenSettingsMixin


class Settings(ServiceSettingsMixin, TokenSettingsMixin, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERP_CONNECTOR_", env_nested_delimiter="__", extra="ignore")

    port: int = 8104
