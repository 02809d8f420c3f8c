"""alert_relay settings: env prefix ALERT_RELAY_ (ALERT_RELAY_WECOM_URL, ALERT_RELAY_DINGTALK_SECRET, ...).

The robot URLs carry the robots' access tokens and the 钉钉 加签 secret signs every message: all three are
secrets, with no defaults: files in `robots_dir` (a Kubernetes Secret volume: `wecom-url`, `dingtalk-url`,
`dingtalk-secret`) or, in compose, the environment (a robot there may be empty, which a secret file cannot be).
A robot left unset or empty is not used. Outside env=dev at least one must be set, and a placeholder (a short or well-known token or
secret, plain http, a URL without its token, an example host) stops the relay at start-up.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.settings import PLACEHOLDER_SECRETS, Environment

MIN_SECRET_CHARS = 12


def _placeholder(value: str) -> bool:
    return value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_CHARS


def _url_problem(name: str, url: str, token_param: str) -> str | None:
    parts = urlsplit(url)
    token = (parse_qs(parts.query).get(token_param) or [""])[0]
    if parts.scheme != "https":
        return f"{name} must be an https URL"
    if _placeholder(token) or "example" in (parts.hostname or "example"):
        return f"{name} is a placeholder: set the robot's real URL with its {token_param}"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALERT_RELAY_", extra="ignore")

    env: Environment = Environment.DEV
    host: str = "127.0.0.1"
    port: int = 8106
    log_level: str = "INFO"
    wecom_url: SecretStr | None = Field(
        default=None,
        description="企业微信 群机器人 webhook, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    )
    dingtalk_url: SecretStr | None = Field(
        default=None,
        description="钉钉 自定义机器人 webhook, https://oapi.dingtalk.com/robot/send?access_token=…",
    )
    dingtalk_secret: SecretStr | None = Field(default=None, description="钉钉 加签 secret (SEC…)")
    robots_dir: Path | None = Field(
        default=None,
        description="Secret files wecom-url, dingtalk-url, dingtalk-secret; a missing or empty one is not used",
    )
    dashboard_url: str = "http://127.0.0.1:3000/d/rollsync-overview"
    docs_base: str = Field(
        default="https://rollsync.example.com/", description="Put in front of each rule's runbook_url"
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Per robot call; Alertmanager retries a failure")

    @field_validator("wecom_url", "dingtalk_url", "dingtalk_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _robots_from_files(self) -> Settings:
        """Runs before _robots_are_real (declared first): file values are checked like any other."""
        for name in ("wecom_url", "dingtalk_url", "dingtalk_secret"):
            path = self.robots_dir / name.replace("_", "-") if self.robots_dir else None
            if getattr(self, name) is None and path is not None and path.is_file():
                value = path.read_text(encoding="utf-8").strip()
                setattr(self, name, SecretStr(value) if value else None)
        return self

    @model_validator(mode="after")
    def _robots_are_real(self) -> Settings:
        if self.dingtalk_url is not None and self.dingtalk_secret is None:
            raise ValueError("dingtalk_secret is required with dingtalk_url (the robot's 加签 secret)")
        if self.env is Environment.DEV:  # a demo stack may have no robot yet: it answers not_configured
            return self
        if self.wecom_url is None and self.dingtalk_url is None:
            raise ValueError("set wecom_url and/or dingtalk_url: there is no robot to relay to")
        problems = [
            self.wecom_url and _url_problem("wecom_url", self.wecom_url.get_secret_value(), "key"),
            self.dingtalk_url
            and _url_problem("dingtalk_url", self.dingtalk_url.get_secret_value(), "access_token"),
            self.dingtalk_secret
            and _placeholder(self.dingtalk_secret.get_secret_value())
            and "dingtalk_secret is a placeholder or too short",
        ]
        found = [p for p in problems if p]
        if found:
            raise ValueError(f"{'; '.join(found)} (env={self.env.value})")
        return self
