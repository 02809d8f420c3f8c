"""The content hash decides "unchanged": width and order must not matter, any business value must."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from random import Random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingest.domain.lines import BOOKKEEPING, content_hash, normalize_key

KEYS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)


def full_width(text: str) -> str:
    """The full-width twin of printable ASCII: what a Chinese IME types."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@given(st.dictionaries(KEYS, st.one_of(VALUES, st.none()), max_size=8), st.randoms())
def test_hash_ignores_key_order_and_character_width(row: dict[str, str | None], random: Random) -> None:
    items = list(row.items())
    random.shuffle(items)
    twin = {full_width(k): None if v is None else full_width(v) for k, v in items}
    assert content_hash(twin) == content_hash(row)


@given(
    st.dictionaries(KEYS.filter(lambda k: k not in BOOKKEEPING), VALUES, min_size=1, max_size=8), st.data()
)
def test_hash_changes_with_any_business_value(row: dict[str, str], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(row)))
    new = data.draw(VALUES.filter(lambda v: v.strip() != row[key].strip()))
    assert content_hash({**row, key: new}) != content_hash(row)


def _reference_hash(row: dict[str, Any]) -> str:
    """content_hash as first written (before its column-key cache and ASCII fast path, issue 12)."""
    keyed = {normalize_key(k): v for k, v in row.items()}
    canonical = {
        k: unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v
        for k, v in keyed.items()
        if k not in BOOKKEEPING
    }
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)


@given(st.dictionaries(ANY_TEXT, st.one_of(ANY_TEXT, st.integers(), st.none(), st.booleans()), max_size=8))
def test_the_fast_paths_keep_every_stored_hash(row: dict[str, Any]) -> None:
    assert content_hash(row) == _reference_hash(row)
    assert content_hash(row) == _reference_hash(row)  # column keys now from the cache
