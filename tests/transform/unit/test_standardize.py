from datetime import date
from decimal import Decimal

import pytest

from tests.support.seed000 import SEED_ROW
from transform.domain.field_specs import MappingConfigError
from transform.domain.mapping import (
    DEFAULT_MAPPING,
    FieldMapping,
    FieldSpec,
    RowRejected,
    standardize,
)
from transform.domain.routes import DEFAULT_CATALOG
from transform.domain.status import ProcessStatus


def full_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        **SEED_ROW,
        "乙方": "某某辊业有限公司",
        "产品类型": "凹版",
        "规格": "Φ180×1050mm(面长)×1450mm(总长)",
        "数量": "4支",
        "单位": "支",
        "单价": "¥1,250.00",
        "合同金额": "5000元",
        "签订日期": "2023/9/17",
        "交货日期": "2023年9月27日",
        "付款方式": "预付30%,发货前付清",
        "交货方式": "送货上门",
        "备注": "'; DROP TABLE hetong;--",
        "sync_status": "pending",
        "sync_time": None,
        "cloud_contract_id": 7,
        "last_sync_hash": "ab" * 32,
    }
    row.update(overrides)
    return row


def test_the_seed_example_row_standardises_end_to_end() -> None:
    row = standardize(SEED_ROW, DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert (row.product_id, row.contract_no) == ("P20230917001", "HT2023001")
    assert row.fields["party_a"] == "客户A"
    assert row.fields["product_name"] == "凹版印刷辊"
    assert row.fields["contract_status"] == "生产中"
    assert row.fields["party_b"] is None
    assert row.process_statuses["基辊加工"] is ProcessStatus.DONE
    assert row.process_statuses["热喷涂"] is ProcessStatus.IN_PROGRESS
    assert row.process_statuses["陶瓷磨削"] is None
    assert set(row.process_statuses) == DEFAULT_CATALOG.process_names
    assert (row.issues, row.unknown_columns, row.unknown_statuses) == ((), {}, {})


def test_every_kind_of_field_is_normalised() -> None:
    row = standardize(full_row(), DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert row.fields["quantity"] == 4
    assert row.fields["unit_price"] == Decimal("1250.00")
    assert row.fields["amount"] == Decimal("5000.00")
    assert row.fields["signed_date"] == date(2023, 9, 17)
    assert row.fields["delivery_date"] == date(2023, 9, 27)
    assert row.fields["product_type"] == "gravure"
    assert row.fields["remark"] == "'; DROP TABLE hetong;--"
    assert row.issues == ()


def test_sync_bookkeeping_columns_are_neither_fields_nor_unknown() -> None:
    row = standardize(full_row(), DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert row.unknown_columns == {}
    assert "sync_status" not in row.fields


def test_column_names_match_after_width_and_space_normalisation() -> None:
    raw = {"产品ＩＤ": " P1 ", "合同编号 ": "ＨＴ２０２３００１", "\ufeff甲方": "客户A", " 热喷涂": "完工"}
    row = standardize(raw, DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert (row.product_id, row.contract_no) == ("P1", "HT2023001")
    assert row.fields["party_a"] == "客户A"
    assert row.process_statuses["热喷涂"] is ProcessStatus.DONE


def test_unknown_columns_are_kept_verbatim() -> None:
    raw = {**SEED_ROW, "业务员": "张三", "id": 42, "网线数": " 175 lpi "}
    row = standardize(raw, DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert row.unknown_columns == {"业务员": "张三", "id": 42, "网线数": " 175 lpi "}


def test_unknown_status_words_are_reported_and_not_guessed() -> None:
    raw = {**SEED_ROW, "热喷涂": "√", "检验": "OK?", "打样": "  "}
    row = standardize(raw, DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert row.unknown_statuses == {"热喷涂": "√", "检验": "OK?"}
    assert row.process_statuses["热喷涂"] is None
    assert row.process_statuses["打样"] is None
    assert row.process_statuses["基辊加工"] is ProcessStatus.DONE


def test_values_that_cannot_be_normalised_become_issues_not_losses() -> None:
    raw = full_row(数量="4.5支", 合同金额="abc", 签订日期="2023-02-30", 单价=None)
    row = standardize(raw, DEFAULT_MAPPING, DEFAULT_CATALOG)
    by_field = {issue.field: issue for issue in row.issues}
    assert set(by_field) == {"quantity", "amount", "signed_date"}
    assert by_field["quantity"].raw == "4.5支"
    assert by_field["amount"].raw == "abc"
    assert "impossible date" in by_field["signed_date"].message
    assert row.fields["quantity"] is None
    assert row.fields["amount"] is None
    assert row.fields["unit_price"] is None


def test_an_unknown_product_type_is_kept_and_reported() -> None:
    row = standardize(full_row(产品类型="陶瓷凹版"), DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert row.fields["product_type"] == "陶瓷凹版"
    assert [issue.field for issue in row.issues] == ["product_type"]


def test_duplicate_columns_after_normalisation_are_both_kept() -> None:
    raw = {**SEED_ROW, "甲方 ": "客户B"}
    row = standardize(raw, DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert row.fields["party_a"] == "客户A"
    assert row.unknown_columns == {"甲方 ": "客户B"}
    assert [(i.field, i.raw) for i in row.issues] == [("甲方 ", "客户B")]


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ({"产品ID": None}, "product_id"),
        ({"产品ID": ""}, "product_id"),
        ({"产品ID": "\u3000"}, "product_id"),
        ({"合同编号": "NULL"}, "contract_no"),
        ({"合同编号": None}, "contract_no"),
    ],
)
def test_a_row_without_its_keys_is_rejected(missing: dict[str, object], field: str) -> None:
    with pytest.raises(RowRejected) as caught:
        standardize({**SEED_ROW, **missing}, DEFAULT_MAPPING, DEFAULT_CATALOG)
    assert caught.value.field == field
    assert "missing required field" in caught.value.message


def test_a_row_whose_key_columns_are_absent_is_rejected() -> None:
    with pytest.raises(RowRejected, match="product_id"):
        standardize({"合同编号": "HT1"}, DEFAULT_MAPPING, DEFAULT_CATALOG)


def test_other_required_fields_can_be_configured() -> None:
    mapping = FieldMapping((*DEFAULT_MAPPING.specs[:-1], FieldSpec("备注", "remark", "date", True)))
    with pytest.raises(RowRejected) as caught:
        standardize({**SEED_ROW, "备注": "soon"}, mapping, DEFAULT_CATALOG)
    assert caught.value.field == "remark"
    assert "unrecognised date" in caught.value.message


def test_a_reloaded_mapping_is_used_for_the_very_next_row_with_the_same_columns() -> None:
    # What each column is gets decided once per column set; a mapping changed in the configuration must not be
    # read through the decisions made for the old one.
    row = {**SEED_ROW, "备注": "2023-09-17"}
    assert standardize(row, DEFAULT_MAPPING, DEFAULT_CATALOG).fields["remark"] == "2023-09-17"
    mapping = FieldMapping((*DEFAULT_MAPPING.specs[:-1], FieldSpec("备注", "remark", "date")))
    assert standardize(row, mapping, DEFAULT_CATALOG).fields["remark"] == date(2023, 9, 17)
    assert standardize(row, DEFAULT_MAPPING, DEFAULT_CATALOG).fields["remark"] == "2023-09-17"


def test_rows_with_the_same_columns_in_another_order_each_get_their_own_columns() -> None:
    row = full_row()
    reordered = dict(reversed(list(row.items())))
    ours, theirs = (standardize(r, DEFAULT_MAPPING, DEFAULT_CATALOG) for r in (row, reordered))
    assert ours.fields == theirs.fields
    assert ours.process_statuses == theirs.process_statuses
    assert ours.unknown_columns == theirs.unknown_columns


@pytest.mark.parametrize(
    "specs",
    [
        (FieldSpec("产品ID", "product_id", "text", True),),
        (
            FieldSpec("产品ID", "product_id", "text", True),
            FieldSpec("合同编号", "contract_no", "text"),
        ),
        (
            FieldSpec("产品ID", "product_id", "text", True),
            FieldSpec("合同编号", "contract_no", "text", True),
            FieldSpec("合同编号 ", "contract_no_2", "text"),
        ),
    ],
)
def test_a_mapping_standardize_could_not_use_is_refused(specs: tuple[FieldSpec, ...]) -> None:
    with pytest.raises(MappingConfigError):
        FieldMapping(specs)


def test_the_default_mapping_covers_the_hetong_columns() -> None:
    sources = {spec.source: spec.target for spec in DEFAULT_MAPPING.specs}
    assert sources["产品ID"] == "product_id"
    assert sources["合同编号"] == "contract_no"
    assert sources["甲方"] == "party_a"
    assert sources["乙方"] == "party_b"
    assert len(sources) >= 17
