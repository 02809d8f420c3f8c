"""What the 企业微信 and 钉钉 robot servers check before they take a message, for the local stand-ins.

Written from the robots' documentation, apart from services/alert-relay (which builds and signs the messages),
so a test through the stand-ins checks the relay against an independent reading of the formats:
企业微信 群机器人 `{"msgtype": "markdown", "markdown": {"content": ...}}` (content at most 4096 bytes);
钉钉 自定义机器人 `{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}`, with 加签 the URL carries
`timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), accepted within one hour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

WECOM_MAX_BYTES = 4096
DINGTALK_SIGN_WINDOW_MS = 3_600_000


def dingtalk_signature_ok(secret: str, timestamp: str, sign: str, now_ms: int) -> bool:
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > DINGTALK_SIGN_WINDOW_MS:
        return False
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), sign)


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
