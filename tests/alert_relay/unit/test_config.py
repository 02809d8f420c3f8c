"""alert-relay settings: the robot URLs and 钉钉 secret have no defaults; placeholders stop it outside dev."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alert_relay.config import Settings

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=" + "a1b2c3d4" * 8
SECRET = "SEC" + "0f" * 32


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key in ("ENV", "WECOM_URL", "DINGTALK_URL", "DINGTALK_SECRET", "ROBOTS_DIR"):
        monkeypatch.delenv(f"ALERT_RELAY_{key}", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(f"ALERT_RELAY_{key.upper()}", value)
    return Settings()


def test_without_any_robot_the_relay_refuses_to_start_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="no robot to relay to"):
        _settings(monkeypatch, env="prod")
    with pytest.raises(ValidationError, match="no robot to relay to"):
        _settings(monkeypatch, env="test", wecom_url="", dingtalk_url="")
    demo = _settings(monkeypatch, wecom_url="", dingtalk_url="", dingtalk_secret="")  # a demo stack, env=dev
    assert demo.wecom_url is None and demo.dingtalk_url is None


def test_a_dingtalk_robot_needs_its_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="dingtalk_secret is required"):
        _settings(monkeypatch, dingtalk_url=DINGTALK)


def test_real_robots_are_accepted_in_prod_and_one_robot_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    both = _settings(monkeypatch, env="prod", wecom_url=WECOM, dingtalk_url=DINGTALK, dingtalk_secret=SECRET)
    assert both.wecom_url is not None and both.wecom_url.get_secret_value() == WECOM
    assert "key=" not in repr(both)  # secrets are masked wherever settings are printed
    only_wecom = _settings(monkeypatch, env="prod", wecom_url=WECOM)
    assert only_wecom.dingtalk_url is None


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        (
            {"wecom_url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=changethis"},
            "wecom_url is a placeholder",
        ),
        (
            {"wecom_url": "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "k" * 36},
            "must be an https URL",
        ),
        ({"wecom_url": "https://robot.example.com/send?key=" + "k" * 36}, "wecom_url is a placeholder"),
        (
            {"dingtalk_url": "https://oapi.dingtalk.com/robot/send", "dingtalk_secret": SECRET},
            "dingtalk_url is a placeholder",
        ),
        ({"dingtalk_url": DINGTALK, "dingtalk_secret": "secret"}, "dingtalk_secret is a placeholder"),
    ],
)
def test_placeholders_are_refused_outside_dev(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], problem: str
) -> None:
    for where in ("prod", "test"):
        with pytest.raises(ValidationError, match=problem):
            _settings(monkeypatch, env=where, **env)
    assert _settings(monkeypatch, env="dev", **env)  # a laptop may point at local stand-ins


def test_robots_come_from_a_secret_volume_where_a_missing_or_empty_file_is_no_robot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Kubernetes mounts the Secret rollsync-alert-relay as files (issue 10: secrets never as environment values)."""
    (tmp_path / "dingtalk-url").write_text(DINGTALK + "\n")
    (tmp_path / "dingtalk-secret").write_text(SECRET)
    (tmp_path / "wecom-url").write_text("")
    relay = _settings(monkeypatch, env="prod", robots_dir=str(tmp_path))
    assert relay.dingtalk_url is not None and relay.dingtalk_url.get_secret_value() == DINGTALK
    assert relay.dingtalk_secret is not None and relay.dingtalk_secret.get_secret_value() == SECRET
    assert relay.wecom_url is None
    (tmp_path / "dingtalk-secret").write_text("secret")  # file values are checked like environment values
    with pytest.raises(ValidationError, match="dingtalk_secret is a placeholder"):
        _settings(monkeypatch, env="prod", robots_dir=str(tmp_path))
