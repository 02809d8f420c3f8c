"""Turn ERP answers into success or one of the error classes (ERP_ZHIBANG.md §4, §10).

The vendor publishes no status codes or failure texts, so ASP failures are told apart by words
in `header.message`; the vocabulary is data, so a real instance's texts can be added in settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from erp_connector.domain.errors import (
    AuthError,
    BusinessError,
    CaptchaRequiredError,
    ErpError,
    SessionExpiredError,
    TransientError,
)

MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True, slots=True)
class Vocabulary:
    session_expired: tuple[str, ...] = ("登录超时", "未登录", "重新登录", "会话", "session", "token")
    captcha: tuple[str, ...] = ("验证码", "rndcode", "captcha")
    throttled: tuple[str, ...] = ("频繁", "稍后再试", "限流", "too many")
    not_found: tuple[str, ...] = ("不存在",)

    @staticmethod
    def says(message: str, words: tuple[str, ...]) -> bool:
        folded = message.casefold()
        return any(word.casefold() in folded for word in words)


DEFAULT_VOCABULARY = Vocabulary()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date; capped, never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def http_error(status: int, headers: Mapping[str, str], now: datetime | None = None) -> ErpError | None:
    """Errors visible in the HTTP status alone; business errors travel inside HTTP 200."""
    if 200 <= status < 300:
        return None
    retry_after = parse_retry_after(headers.get("retry-after"), now)
    if status == 429 or (status == 503 and retry_after is not None):
        # Throttled before the handler ran: certainly not applied.
        return TransientError(
            f"throttled (HTTP {status})", retry_after=retry_after, throttled=True, http_status=status
        )
    if status >= 500 or status == 408:
        return TransientError(f"HTTP {status}", retry_after=retry_after, http_status=status)
    if 300 <= status < 400:
        return TransientError(f"unexpected redirect (HTTP {status})", http_status=status)
    return BusinessError(f"HTTP {status}", http_status=status)


def parse_json(body: bytes) -> dict[str, Any]:
    """An HTML error page, a truncated body or any non-object is transient (§4)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        kind = "HTML page" if body.lstrip()[:1] == b"<" else "unreadable body"
        raise TransientError(f"{kind} instead of JSON ({len(body)} bytes)") from exc
    if not isinstance(data, dict):
        raise TransientError("JSON body is not an object")
    return data


def asp_error(
    envelope: Mapping[str, Any], *, login: bool = False, vocabulary: Vocabulary = DEFAULT_VOCABULARY
) -> ErpError | None:
    """ASP style: `header.status` 0 is success; otherwise the reason is in `header.message`."""
    header = envelope.get("header")
    if not isinstance(header, Mapping) or "status" not in header:
        return TransientError("ASP answer without header.status")
    status = str(header.get("status")).strip()
    if status == "0":
        return None
    message = str(header.get("message") or "").strip() or f"status {status}"
    says = vocabulary.says
    if says(message, vocabulary.throttled):
        return TransientError(message, throttled=True, erp_status=status)
    if login:
        # Anything else a login answers is a rejection; retrying it is what locks the account.
        cls = CaptchaRequiredError if says(message, vocabulary.captcha) else AuthError
        return cls(message, erp_status=status)
    if says(message, vocabulary.session_expired):
        return SessionExpiredError(message, erp_status=status)
    return BusinessError(message, erp_status=status)


def v3_error(envelope: Mapping[str, Any], *, vocabulary: Vocabulary = DEFAULT_VOCABULARY) -> ErpError | None:
    """V3 style: Code 200 success, 300 business, 400 token check failed, 500 server error."""
    code = str(envelope.get("Code", "")).strip()
    message = str(envelope.get("Msg") or "").strip() or f"Code {code or 'missing'}"
    if code == "200":
        return None
    if code == "400":
        return SessionExpiredError(message, erp_status=code)
    if code == "300":
        if vocabulary.says(message, vocabulary.throttled):
            return TransientError(message, throttled=True, erp_status=code)
        return BusinessError(message, erp_status=code)
    return TransientError(message, erp_status=code or None)


def is_not_found(error: ErpError, vocabulary: Vocabulary = DEFAULT_VOCABULARY) -> bool:
    return isinstance(error, BusinessError) and vocabulary.says(error.message, vocabulary.not_found)
