"""The robot stand-ins of devkit/alert-sinks refuse what the real robots refuse (so relay tests can fail)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from alert_sinks import robots


def _sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def test_the_dingtalk_stand_in_takes_a_fresh_signature_only() -> None:
    now = 1_796_414_000_000
    assert robots.dingtalk_signature_ok("SECabc", str(now), _sign("SECabc", now), now + 1000)
    assert not robots.dingtalk_signature_ok("SECabc", str(now), _sign("SECother", now), now)
    assert not robots.dingtalk_signature_ok("SECabc", str(now), _sign("SECabc", now), now + 3_600_001)
    assert not robots.dingtalk_signature_ok("SECabc", "not-a-time", _sign("SECabc", now), now)


def test_malformed_robot_messages_are_refused() -> None:
    assert robots.wecom_problem({"msgtype": "text", "text": {"content": "x"}}) == "msgtype must be markdown"
    assert robots.wecom_problem({"msgtype": "markdown", "markdown": {"content": "告" * 1400}}) == (
        "markdown.content over 4096 bytes"
    )
    assert (
        robots.dingtalk_problem({"msgtype": "markdown", "markdown": {"text": "x"}})
        == "markdown.title missing"
    )
    assert robots.dingtalk_problem({"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}) is None
