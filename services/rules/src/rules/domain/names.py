"""Company-name keys: two spellings of one company must meet. Pure."""

from __future__ import annotations

import unicodedata


def company_key(name: str) -> str:
    """NFKC (full-width → half-width), no whitespace, case-folded: '测试　公司 ' and '测试公司' are one key."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()
