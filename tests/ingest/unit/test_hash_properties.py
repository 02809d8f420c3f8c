"""The content hash decides "unchanged": width and order must not matter, any business value must."""

from __future__ import annotations

from random import Random

from hypothesis import given
from hypothesis import strategies as st

from ingest.domain.lines import BOOKKEEPING, content_hash

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
