import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transform.domain.normalize import normalize_text

HUGE = "辊" * 200_000 + " x"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＨＴ２０２３００１", "HT2023001"),
        ("  P20230917001  ", "P20230917001"),
        ("客户\u3000A", "客户 A"),
        ("a \t\n\r  b\u3000\u3000c", "a b c"),
        ("（凹版）印刷辊", "(凹版)印刷辊"),
        ("\ufeff产品ID", "产品ID"),
        ("HT\u200b2023001", "HT2023001"),
        ("凹版印刷辊 😀", "凹版印刷辊 😀"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("'; DROP TABLE hetong;--", "'; DROP TABLE hetong;--"),
        ('Robert"); DELETE FROM x; --', 'Robert"); DELETE FROM x; --'),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("Φ180×1050mm(面长)", "Φ180×1050mm(面长)"),
        (12, "12"),
        (1234.5, "1234.5"),
        (0, "0"),
        ("nullable", "nullable"),
        ("None of them", "None of them"),
    ],
)
def test_text_is_nfkc_trimmed_and_collapsed_but_otherwise_verbatim(raw: object, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000\t\n", "None", "null", "NULL", " NULL ", "ｎｕｌｌ"])
def test_empty_markers_become_none(raw: object) -> None:
    assert normalize_text(raw) is None


def test_huge_strings_are_kept_whole() -> None:
    result = normalize_text(HUGE)
    assert result is not None
    assert len(result) == len(HUGE)
    assert result.endswith(" x")


def _reference(value: object) -> str | None:
    """normalize_text as first written (before the ASCII fast path and the cache of short texts, issue 12)."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value).translate(str.maketrans("", "", "\ufeff\u200b")))
    collapsed = " ".join(text.split())
    return None if collapsed in {"", "None", "null", "NULL"} else collapsed


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.integers() | st.floats())
@settings(max_examples=2000)
def test_the_fast_paths_change_no_result(value: object) -> None:
    assert normalize_text(value) == _reference(value)
    assert normalize_text(value) == _reference(value)  # the second call answers from the cache


@pytest.mark.parametrize(
    "raw", ["ａｂｃ", "\ufeffabc", "a\u200bb", "x\u3000 y", "Ⅻ", "ｎｕｌｌ", " null", "\u00a0a"]
)
def test_non_ascii_texts_take_the_full_path(raw: str) -> None:
    assert normalize_text(raw) == _reference(raw)
