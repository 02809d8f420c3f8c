"""The normalised customer record, its content hash and list-row mapping (ERP_ZHIBANG.md §4, §11)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from erp_connector.domain.customer import (
    HASHED_FIELDS,
    ErpCustomer,
    MalformedRowError,
    clean,
    content_hash,
    customer_from_values,
    pair_rows,
)
from erp_connector.domain.pages import CustomerPage

COLS = ["ord", "name", "khid", "catename", "sortname", "sort1name", "personname", "mobile", "weixin", "intro"]
ROW = [1001, " 汕头华彩彩印有限公司 ", "", "陈静", "印刷厂", "报价中", "王伟", "13800138000", "", "老客户"]


def test_text_is_trimmed_and_empty_is_null() -> None:
    assert clean("  a b ") == "a b"
    assert clean("") is None
    assert clean("   ") is None
    assert clean(None) is None
    assert clean(0) == "0"


def test_array_rows_pair_each_value_with_its_column() -> None:
    [row] = pair_rows(COLS, [ROW])
    customer = customer_from_values(row)
    assert customer.erp_id == 1001
    assert customer.name == "汕头华彩彩印有限公司"
    assert customer.code is None
    assert (customer.category, customer.follow_level, customer.sales_person) == ("印刷厂", "报价中", "陈静")
    assert (customer.contact_name, customer.mobile, customer.wechat, customer.remark) == (
        "王伟",
        "13800138000",
        None,
        "老客户",
    )
    assert customer.raw["name"] == " 汕头华彩彩印有限公司 "  # raw stays untouched


def test_object_rows_give_the_same_record_as_array_rows() -> None:
    [as_array] = pair_rows(COLS, [ROW])
    [as_object] = pair_rows(COLS, [{"value": ROW, "ord": 1001}])
    assert customer_from_values(as_array) == customer_from_values(as_object)


def test_object_rows_take_ord_beside_the_values_when_the_column_is_empty() -> None:
    [row] = pair_rows(["ord", "name"], [{"value": ["", "甲"], "ord": 77}])
    assert customer_from_values(row).erp_id == 77


@pytest.mark.parametrize("row", [[1, 2], "1001", {"value": None}, 5])
def test_a_row_that_does_not_fit_the_columns_is_malformed(row: object) -> None:
    with pytest.raises(MalformedRowError):
        pair_rows(["ord", "name", "khid"], [row])


def test_a_row_without_a_numeric_ord_is_malformed() -> None:
    with pytest.raises(MalformedRowError):
        customer_from_values({"ord": "abc", "name": "x"})


def test_detail_views_use_display_texts_for_category_and_sales_person() -> None:
    values = {
        "ord": "5",
        "sort1": "101",
        "cateid": "3",
        "person_name": "李娜",
        "bank_4": "91440500",
        "weixinAcc": "wx1",
    }
    texts = {"sort1": "印刷厂", "cateid": "陈静"}
    customer = customer_from_values(values, texts)
    assert (customer.category, customer.sales_person, customer.contact_name) == ("印刷厂", "陈静", "李娜")
    assert (customer.tax_no, customer.wechat) == ("91440500", "wx1")


def test_the_hash_ignores_whitespace_and_treats_empty_as_missing() -> None:
    a = ErpCustomer(1, name="甲公司", mobile="13800138000", email="")
    b = ErpCustomer(1, name=" 甲公司 ", mobile="13800138000 ", email=None)
    assert content_hash(a.fields()) == content_hash(
        {"name": " 甲公司 ", "mobile": "13800138000 ", "email": ""}
    )
    assert a.content_hash == content_hash(b.fields())


def test_the_hash_changes_when_any_hashed_field_changes() -> None:
    base = {name: f"v-{name}" for name in HASHED_FIELDS}
    seen = {content_hash(base)}
    for name in HASHED_FIELDS:
        seen.add(content_hash({**base, name: "other"}))
    assert len(seen) == len(HASHED_FIELDS) + 1


def test_fields_only_in_the_detail_view_do_not_change_the_hash() -> None:
    listed = ErpCustomer(1, name="甲")
    detailed = ErpCustomer(1, name="甲", tax_no="9144", added_at="2024-01-01 10:00:00")
    assert listed.content_hash == detailed.content_hash


@given(st.dictionaries(st.sampled_from(HASHED_FIELDS), st.text(max_size=20)))
def test_the_hash_does_not_depend_on_key_order(fields: dict[str, str]) -> None:
    assert content_hash(fields) == content_hash(dict(reversed(list(fields.items()))))


def test_a_scan_ends_at_pagecount_or_at_an_empty_page_never_earlier() -> None:
    row = [ErpCustomer(1)]
    assert CustomerPage(3, 3, row).is_last
    assert not CustomerPage(2, 3, row).is_last
    assert CustomerPage(2, 3, []).is_last  # rows came back empty
    assert not CustomerPage(5, 0, row).is_last  # no pagecount: keep going until a page is empty
    assert CustomerPage(6, 0, []).is_last
