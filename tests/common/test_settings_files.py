"""`<PREFIX><NAME>_FILE` variables: any setting, nested ones included, can come from a file (issue 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr
from pydantic_settings import SettingsConfigDict, SettingsError

from common.settings import FileSettings


class Nested(BaseModel):
    user: str = "svc"
    password: SecretStr


class Demo(FileSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", env_nested_delimiter="__", extra="ignore")

    token_secret: SecretStr
    signing_key_file: Path | None = None  # a path setting of its own, as tokens' TOKEN_SIGNING_KEY_FILE
    postgres: Nested
    port: int = 1


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("DEMO_"):
            monkeypatch.delenv(key)
    return monkeypatch


def _secret(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def test_top_level_and_nested_secrets_come_from_files(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("DEMO_TOKEN_SECRET_FILE", _secret(tmp_path, "token", "t0ken-from-file\n"))
    env.setenv("DEMO_POSTGRES__PASSWORD_FILE", _secret(tmp_path, "pg", "pg-from-file"))
    env.setenv("DEMO_POSTGRES__USER", "ingest")
    settings = Demo()
    assert settings.token_secret.get_secret_value() == "t0ken-from-file"  # one trailing newline dropped
    assert settings.postgres.password.get_secret_value() == "pg-from-file"
    assert settings.postgres.user == "ingest"  # merged with the same sub-model's environment values


def test_any_typed_setting_can_come_from_a_file(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("DEMO_TOKEN_SECRET", "direct")
    env.setenv("DEMO_POSTGRES__PASSWORD", "direct")
    env.setenv("DEMO_PORT_FILE", _secret(tmp_path, "port", "8123\n"))
    assert Demo().port == 8123


def test_a_declared_file_setting_is_a_path_not_a_pointer(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = _secret(tmp_path, "key.pem", "-----BEGIN PRIVATE KEY-----\n")
    env.setenv("DEMO_SIGNING_KEY_FILE", key)
    env.setenv("DEMO_TOKEN_SECRET", "direct")
    env.setenv("DEMO_POSTGRES__PASSWORD", "direct")
    settings = Demo()
    assert settings.signing_key_file == Path(key)
    assert "signing_key" not in settings.model_dump()


def test_value_and_file_together_are_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("DEMO_TOKEN_SECRET", "direct")
    env.setenv("DEMO_TOKEN_SECRET_FILE", _secret(tmp_path, "token", "from-file"))
    env.setenv("DEMO_POSTGRES__PASSWORD", "direct")
    with pytest.raises(SettingsError, match="both DEMO_TOKEN_SECRET and DEMO_TOKEN_SECRET_FILE"):
        Demo()


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_file_names_the_variable_not_a_value(
    env: pytest.MonkeyPatch, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "absent"
    if content is not None:
        path.write_text(content)
    env.setenv("DEMO_POSTGRES__PASSWORD_FILE", str(path))
    env.setenv("DEMO_TOKEN_SECRET", "direct-value-not-shown")
    with pytest.raises(SettingsError, match="DEMO_POSTGRES__PASSWORD_FILE") as info:
        Demo()
    assert str(path) in str(info.value)
    assert "direct-value-not-shown" not in str(info.value)


def test_unknown_file_variables_are_ignored_like_unknown_variables(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("DEMO_NO_SUCH_SETTING_FILE", str(tmp_path / "absent"))
    env.setenv("DEMO_TOKEN_SECRET", "direct")
    env.setenv("DEMO_POSTGRES__PASSWORD", "direct")
    assert Demo().port == 1


def test_every_service_reads_file_variables() -> None:
    from erp_connector.config import Settings as ErpConnector
    from ingest.config import Settings as Ingest
    from rules.config import Settings as Rules
    from transform.config import Settings as Transform

    assert all(issubclass(s, FileSettings) for s in (Ingest, Transform, Rules, ErpConnector))
