import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.domain.fields import clean
from rules.domain.formats import is_empty, is_mobile, normalize_company, normalize_phone


@pytest.mark.parametrize("value", [None, "", "   ", "None", "none", "null", " NULL "])
def test_empty_markers_are_no_value(value: object) -> None:
    assert is_empty(value)
    assert clean("email", value) is None


@pytest.mark.parametrize("value", [0, False, "0", "无"])
def test_zero_false_and_words_are_values(value: object) -> None:
    assert not is_empty(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
        ("(138)0013.8000", "13800138000"),
    ],
)
def test_phone_numbers_are_normalised_to_eleven_digits(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert clean("phone", raw) == expected
    assert is_mobile(expected)


@pytest.mark.parametrize("raw", ["1380013800", "23800138000", "12800138000", "0755-8888888", "1380013800a"])
def test_what_is_not_a_mainland_mobile(raw: str) -> None:
    assert not is_mobile(normalize_phone(raw))


def test_phone_normalisation_is_off_without_auto_fix() -> None:
    assert clean("phone", " 138-0013-8000 ", auto_fix=False) == "138-0013-8000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("测试公司", "测试公司"),
        ("  测试　公司 ", "测试公司"),
        ("汕头 宏达 彩印有限公司", "汕头宏达彩印有限公司"),
        ("ＡＢＣ　Printing  Co.", "ABC Printing Co."),
        ("宏达（汕头）彩印", "宏达(汕头)彩印"),
    ],
)
def test_company_names_are_nfkc_with_tidy_whitespace(raw: str, expected: str) -> None:
    assert normalize_company(raw) == expected


@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(text: str) -> None:
    for name in ("phone", "company_name", "real_name", "email", "address"):
        once = clean(name, text)
        assert clean(name, once) == once


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("intent_score", "85", 85),
        ("intent_score", 250, 100),
        ("intent_score", -3, 0),
        ("intent_score", 49.6, 50),
        ("message_count", "abc", None),
        ("message_count", float("nan"), None),
        ("has_order", "是", True),
        ("has_order", "false", False),
        ("has_order", "maybe", None),
        ("erp_customer_id", 2**70, None),
        ("extracted_needs", {}, None),
        ("extracted_needs", {"产品": ["网纹辊"]}, {"产品": ["网纹辊"]}),
        ("extracted_needs", {"n": float("nan")}, "{'n': nan}"),
    ],
)
def test_values_take_their_fields_kind(field: str, raw: object, expected: object) -> None:
    assert clean(field, raw) == expected


def test_nul_characters_which_postgresql_cannot_store_are_dropped() -> None:
    assert clean("address", "汕头\x00市") == "汕头市"
    assert clean("address", "\x00") is None
    assert clean("extracted_needs", {"k": "a\x00b"}) == {"k": "ab"}
