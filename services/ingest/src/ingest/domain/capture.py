"""A customer captured in WeChat, with what AI extraction found. Pure."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SOURCES = ("wechat", "ai", "manual")


@dataclass(frozen=True, slots=True)
class Capture:
    wechat_id: str
    captured_at: datetime
    fields: dict[str, Any]
    sources: dict[str, str]
    verified: tuple[str, ...]

    @property
    def content_hash(self) -> str:
        canonical = {"fields": self.fields, "sources": self.sources, "verified": sorted(self.verified)}
        text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class CaptureError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_sources(fields: dict[str, Any], sources: dict[str, str], verified: list[str]) -> None:
    for name, source in sources.items():
        if name not in fields:
            raise CaptureError(
                "invalid_sources", f"sources 指向未提供的字段 {name} / source for a missing field"
            )
        if source not in SOURCES:
            raise CaptureError(
                "invalid_sources", f"来源 {source!r} 无效，可用 {'/'.join(SOURCES)} / bad source"
            )
    missing = [v for v in verified if v not in fields]
    if missing:
        raise CaptureError(
            "invalid_verified", f"verified 指向未提供的字段 {missing} / verified a missing field"
        )
