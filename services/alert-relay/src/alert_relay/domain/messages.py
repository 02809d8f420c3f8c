"""企业微信 and 钉钉 group-robot messages made from an Alertmanager webhook notification, and 钉钉's URL signature.

Pure functions. Formats: 企业微信 群机器人 `{"msgtype": "markdown", "markdown": {"content": ...}}` (content at most
4096 bytes); 钉钉 自定义机器人 `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`, and with 加签
the URL carries `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), which
钉钉 accepts for one hour. The content matches the email (deploy/alertmanager/templates/rollsync.tmpl): what
happened, since when, how many, which service, the dashboard and the runbook, in Chinese with an English line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

WECOM_MAX_BYTES = 4096
_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass(frozen=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    ends_at: str


@dataclass(frozen=True)
class Notification:
    """One Alertmanager webhook call (payload version 4): a group of alerts, firing or resolved."""

    status: str
    alertname: str
    severity: str
    alerts: tuple[Alert, ...]

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"


def notification(payload: dict[str, Any]) -> Notification:
    common = payload.get("commonLabels") or {}
    alerts = tuple(
        Alert(
            status=str(a.get("status", "")),
            labels={str(k): str(v) for k, v in (a.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (a.get("annotations") or {}).items()},
            starts_at=str(a.get("startsAt", "")),
            ends_at=str(a.get("endsAt", "")),
        )
        for a in payload.get("alerts") or []
    )
    return Notification(
        status=str(payload.get("status", "firing")),
        alertname=str(common.get("alertname", "rollsync")),
        severity=str(common.get("severity", "-")),
        alerts=alerts,
    )


def readable_time(value: str) -> str:
    """`2026-12-05T07:00:00.123Z` -> `2026-12-05 07:00:00 UTC` (anything else is shown as it came)."""
    found = _TIME.match(value)
    if not found:
        return value or "-"
    day, clock, zone = found.groups()
    return f"{day} {clock} {'UTC' if zone == 'Z' else zone}"


def headline(note: Notification) -> str:
    if note.resolved:
        return f"rollsync 已恢复 resolved: {note.alertname}"
    return f"rollsync 告警 firing: {note.alertname}"


def _count_line(note: Notification) -> str:
    n = len(note.alerts)
    if note.resolved:
        return f"共 {n} 条已恢复 · English: {note.alertname} is resolved ({n} alert(s))"
    return f"共 {n} 条正在发生 · English: {note.alertname} is firing ({n} alert(s)), severity {note.severity}"


def _alert_lines(alert: Alert, docs_base: str) -> list[str]:
    notes = alert.annotations
    lines = [
        f"- **{notes.get('summary', alert.labels.get('alertname', ''))}**",
        f"  服务 service: {alert.labels.get('service', '-')} · 开始于 since: {readable_time(alert.starts_at)}",
    ]
    if alert.status == "resolved":
        lines.append(f"  恢复于 resolved: {readable_time(alert.ends_at)}")
    if notes.get("description"):
        lines.append(f"  说明: {notes['description']}")
    lines.append(f"  [处理手册 runbook]({docs_base}{notes.get('runbook_url', '')})")
    return lines


def markdown(note: Notification, dashboard_url: str, docs_base: str) -> str:
    lines = [f"### {headline(note)}", _count_line(note), ""]
    for alert in note.alerts:
        lines += _alert_lines(alert, docs_base)
    lines += ["", f"[看板 dashboard]({dashboard_url})"]
    return "\n".join(lines)


def wecom_message(text: str) -> dict[str, Any]:
    data = text.encode()
    if len(data) > WECOM_MAX_BYTES:  # cut on a character boundary, not inside a UTF-8 sequence
        text = data[: WECOM_MAX_BYTES - 3].decode(errors="ignore") + "…"
    return {"msgtype": "markdown", "markdown": {"content": text}}


def dingtalk_message(title: str, text: str) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    sign = quote_plus(dingtalk_sign(secret, timestamp_ms))
    return f"{url}&timestamp={timestamp_ms}&sign={sign}"
