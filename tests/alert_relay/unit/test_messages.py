"""The relay's robot messages and 钉钉 signature, checked against the stand-ins' independent reading of the formats."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from alert_relay.domain import messages
from alert_sinks import robots

FIRING = {
    "status": "firing",
    "commonLabels": {"alertname": "RollsyncErpUnreachable", "severity": "page"},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "RollsyncErpUnreachable", "service": "erp-connector"},
            "annotations": {
                "summary": "ERP 不可达",
                "description": "断路器已打开",
                "runbook_url": "docs/runbook.md#erp-unreachable",
            },
            "startsAt": "2026-12-04T20:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }
    ],
}
RESOLVED = {
    **FIRING,
    "status": "resolved",
    "alerts": [{**FIRING["alerts"][0], "status": "resolved", "endsAt": "2026-12-04T20:30:00Z"}],  # type: ignore[index]
}


def test_a_firing_message_says_what_since_when_how_many_which_service_and_links_dashboard_and_runbook() -> (
    None
):
    text = messages.markdown(messages.notification(FIRING), "http://grafana/d/x", "https://docs/")
    assert text.startswith("### rollsync 告警 firing: RollsyncErpUnreachable\n")
    assert "共 1 条正在发生 · English: RollsyncErpUnreachable is firing (1 alert(s)), severity page" in text
    assert "服务 service: erp-connector · 开始于 since: 2026-12-04 20:00:00 UTC" in text
    assert "说明: 断路器已打开" in text
    assert "[处理手册 runbook](https://docs/docs/runbook.md#erp-unreachable)" in text
    assert text.endswith("[看板 dashboard](http://grafana/d/x)")
    assert "恢复于" not in text


def test_a_resolved_message_says_so_and_when() -> None:
    note = messages.notification(RESOLVED)
    text = messages.markdown(note, "http://grafana/d/x", "https://docs/")
    assert messages.headline(note) == "rollsync 已恢复 resolved: RollsyncErpUnreachable"
    assert "共 1 条已恢复 · English: RollsyncErpUnreachable is resolved (1 alert(s))" in text
    assert "恢复于 resolved: 2026-12-04 20:30:00 UTC" in text


def test_both_robots_would_take_the_messages() -> None:
    note = messages.notification(FIRING)
    text = messages.markdown(note, "http://grafana/d/x", "https://docs/")
    assert robots.wecom_problem(messages.wecom_message(text)) is None
    assert robots.dingtalk_problem(messages.dingtalk_message(messages.headline(note), text)) is None


def test_dingtalk_signed_url_verifies_at_the_robot_and_a_wrong_secret_or_old_timestamp_does_not() -> None:
    now = 1_796_414_000_000
    url = messages.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SECabc", now)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["access_token"] == "T" and query["timestamp"] == str(now)
    assert robots.dingtalk_signature_ok("SECabc", query["timestamp"], query["sign"], now + 1000)
    assert not robots.dingtalk_signature_ok("SECother", query["timestamp"], query["sign"], now)
    assert not robots.dingtalk_signature_ok("SECabc", query["timestamp"], query["sign"], now + 3_600_001)


def test_a_wecom_message_over_4096_bytes_is_cut_on_a_character_boundary() -> None:
    message = messages.wecom_message("告警" * 2000)  # 12 000 bytes of UTF-8
    assert robots.wecom_problem(message) is None
    assert message["markdown"]["content"].endswith("…")


def test_times_are_shown_readably_and_anything_unexpected_as_it_came() -> None:
    assert messages.readable_time("2026-12-04T20:00:00+08:00") == "2026-12-04 20:00:00 +08:00"
    assert messages.readable_time("yesterday") == "yesterday"
    assert messages.readable_time("") == "-"
