"""The robot formats and 钉钉's URL signature of devkit/alert-sinks (pure functions)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from alert_sinks import robots

PAYLOAD = {
    "status": "firing",
    "commonLabels": {"alertname": "RollsyncErpUnreachable"},
    "alerts": [
        {
            "labels": {"alertname": "RollsyncErpUnreachable", "service": "erp-connector"},
            "annotations": {"summary": "ERP 不可达", "runbook_url": "docs/runbook.md#erp-unreachable"},
            "startsAt": "2026-12-04T20:00:00Z",
        }
    ],
}


def test_dingtalk_signed_url_verifies_and_a_wrong_secret_or_old_timestamp_does_not() -> None:
    now = 1_796_414_000_000
    url = robots.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SECabc", now)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["access_token"] == "T" and query["timestamp"] == str(now)
    assert robots.dingtalk_signature_ok("SECabc", query["timestamp"], query["sign"], now + 1000)
    assert not robots.dingtalk_signature_ok("SECother", query["timestamp"], query["sign"], now)
    assert not robots.dingtalk_signature_ok("SECabc", query["timestamp"], query["sign"], now + 3_600_001)


def test_robot_messages_are_well_formed_and_carry_the_runbook() -> None:
    text = robots.markdown(PAYLOAD, "http://grafana/d/x", "https://docs/")
    assert "[处理手册 runbook](https://docs/docs/runbook.md#erp-unreachable)" in text
    assert robots.wecom_problem(robots.wecom_message(text)) is None
    assert robots.dingtalk_problem(robots.dingtalk_message(robots.headline(PAYLOAD), text)) is None
    assert (
        robots.dingtalk_problem({"msgtype": "text", "text": {"content": "x"}}) == "msgtype must be markdown"
    )


def test_a_wecom_message_over_4096_bytes_is_cut_on_a_character_boundary() -> None:
    message = robots.wecom_message("告警" * 2000)  # 12 000 bytes of UTF-8
    assert robots.wecom_problem(message) is None
    assert message["markdown"]["content"].endswith("…")
