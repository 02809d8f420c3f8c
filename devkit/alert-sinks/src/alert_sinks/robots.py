"""企业微信 and 钉钉 group-robot messages made from an Alertmanager webhook payload, and 钉钉's URL signature.

Pure functions: the relay sends what these return, the robot sink checks what it receives with them.
Formats: 企业微信 群机器人 `{"msgtype": "markdown", "markdown": {"content": ...}}` (content at most 4096 bytes);
钉钉 自定义机器人 `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`, and with 加签 the URL carries
`timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), valid for one hour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

WECOM_MAX_BYTES = 4096
DINGTALK_SIGN_WINDOW_MS = 3_600_000


def headline(payload: dict[str, Any]) -> str:
    labels = payload.get("commonLabels", {})
    name = labels.get("alertname", "rollsync")
    if payload.get("status") == "resolved":
        return f"rollsync 已恢复 resolved: {name}"
    return f"rollsync 告警 firing: {name}"


def markdown(payload: dict[str, Any], dashboard_url: str, docs_base: str) -> str:
    """Same content as the email: what, since when, how many, which service, dashboard and runbook links."""
    alerts = payload.get("alerts", [])
    lines = [f"### {headline(payload)}", f"共 {len(alerts)} 条 ({len(alerts)} alert(s))", ""]
    for alert in alerts:
        labels, notes = alert.get("labels", {}), alert.get("annotations", {})
        lines += [
            f"- **{notes.get('summary', labels.get('alertname', ''))}**",
            f"  服务 service: {labels.get('service', '-')} · 开始于 since: {alert.get('startsAt', '')}",
            f"  [处理手册 runbook]({docs_base}{notes.get('runbook_url', '')})",
        ]
    lines.append(f"\n[看板 dashboard]({dashboard_url})")
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


def dingtalk_signature_ok(secret: str, timestamp: str, sign: str, now_ms: int) -> bool:
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > DINGTALK_SIGN_WINDOW_MS:
        return False
    return hmac.compare_digest(dingtalk_sign(secret, int(timestamp)), sign)


def wecom_problem(body: Any) -> str | None:
    """Why 企业微信 would refuse this body (None when it is well formed)."""
    if not isinstance(body, dict) or body.get("msgtype") != "markdown":
        return "msgtype must be markdown"
    content = body.get("markdown", {}).get("content")
    if not isinstance(content, str) or not content:
        return "markdown.content missing"
    if len(content.encode()) > WECOM_MAX_BYTES:
        return "markdown.content over 4096 bytes"
    return None


def dingtalk_problem(body: Any) -> str | None:
    """Why 钉钉 would refuse this body (None when it is well formed)."""
    if not isinstance(body, dict) or body.get("msgtype") != "markdown":
        return "msgtype must be markdown"
    md = body.get("markdown", {})
    if not isinstance(md.get("title"), str) or not md.get("title"):
        return "markdown.title missing"
    if not isinstance(md.get("text"), str) or not md.get("text"):
        return "markdown.text missing"
    return None
