"""A batch row is keyed, checked and hashed before anything is stored."""

from __future__ import annotations

import pytest

from ingest.domain.lines import Line, Rejection, content_hash, normalize_key, parse_line, parse_lines
from tests.support.seed000 import SEED_ROW


def test_the_seed_row_is_accepted_with_its_keys() -> None:
    line = parse_line(0, SEED_ROW)
    assert isinstance(line, Line)
    assert (line.contract_no, line.product_id) == ("HT2023001", "P20230917001")
    assert line.row == SEED_ROW


def test_full_width_and_padded_keys_name_the_same_line() -> None:
    line = parse_line(0, {**SEED_ROW, "合同编号": " ＨＴ２０２３００１\u3000", "产品ID": "Ｐ20230917001"})
    assert isinstance(line, Line)
    assert (line.contract_no, line.product_id) == ("HT2023001", "P20230917001")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"产品ID": "P1"}, "missing_field"),
        ({"合同编号": "HT1", "产品ID": ""}, "missing_field"),
        ({"合同编号": ["HT1"], "产品ID": "P1"}, "missing_field"),
        ({"合同编号": True, "产品ID": "P1"}, "missing_field"),
        ({"合同编号": "HT/1", "产品ID": "P1"}, "invalid_key"),
        ({"合同编号": "H" * 65, "产品ID": "P1"}, "invalid_key"),
        ({"合同编号": "HT1", "产品ID": "P1", "备注": {"nested": 1}}, "invalid_value"),
        ({"合同编号": "HT1", "产品ID": "P1", "备注": "x" * 4001}, "invalid_value"),
        ({"合同编号": "HT1", "产品ID": "P1", "备注": "a\x00b"}, "invalid_value"),
        ("not an object", "not_an_object"),
    ],
)
def test_bad_rows_are_rejected_with_a_stable_reason(row: object, reason: str) -> None:
    result = parse_line(3, row)
    assert isinstance(result, Rejection)
    assert (result.index, result.reason) == (3, reason)
    assert result.message


def test_numeric_keys_are_accepted_as_text() -> None:
    line = parse_line(0, {"合同编号": 2023001, "产品ID": 17})
    assert isinstance(line, Line)
    assert (line.contract_no, line.product_id) == ("2023001", "17")


def test_sql_fragments_emoji_and_quotes_are_kept_verbatim() -> None:
    hostile = '\'; DROP TABLE contracts;-- "引号" 🎉'
    line = parse_line(0, {**SEED_ROW, "备注": hostile})
    assert isinstance(line, Line)
    assert line.row["备注"] == hostile


def test_a_line_repeated_in_one_batch_is_rejected_after_the_first() -> None:
    lines, rejections = parse_lines(
        [SEED_ROW, {**SEED_ROW, "热喷涂": "已完成"}, {**SEED_ROW, "产品ID": "P2"}]
    )
    assert [x.index for x in lines] == [0, 2]
    assert [(r.index, r.reason) for r in rejections] == [(1, "duplicate_in_batch")]


def test_hash_ignores_key_order_width_and_bookkeeping_but_not_content() -> None:
    reordered = dict(reversed(list(SEED_ROW.items())))
    assert content_hash(reordered) == content_hash(SEED_ROW)
    assert content_hash({**SEED_ROW, "甲方": "客户Ａ"}) == content_hash(SEED_ROW)
    assert content_hash({**SEED_ROW, "sync_status": "synced", "sync_time": "2023"}) == content_hash(SEED_ROW)
    assert content_hash({**SEED_ROW, "热喷涂": "已完成"}) != content_hash(SEED_ROW)


def test_normalize_key_rejects_non_scalars() -> None:
    assert normalize_key(None) == ""
    assert normalize_key(1.5) == ""
    assert normalize_key(" a \t b ") == "a b"
