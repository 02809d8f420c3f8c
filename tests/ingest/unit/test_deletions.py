"""Deleted-line entries are keyed and checked like uploaded lines; ambiguous ones are rejected, not guessed."""

from __future__ import annotations

import pytest

from ingest.domain.deletions import Deletion, parse_deletion, parse_deletions, split_conflicts
from ingest.domain.lines import Line, Rejection, parse_lines


def test_full_width_and_padded_keys_name_the_same_line_as_an_upload() -> None:
    d = parse_deletion(0, {"合同编号": " ＨＴ２０２３００１\u3000", "产品ID": "Ｐ1"})
    assert d == Deletion(0, "HT2023001", "P1")


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"产品ID": "P1"}, "missing_field"),
        ({"合同编号": "HT1"}, "missing_field"),
        ({"合同编号": "  ", "产品ID": "P1"}, "missing_field"),
        ({"合同编号": None, "产品ID": "P1"}, "missing_field"),
        ({"合同编号": ["HT1"], "产品ID": "P1"}, "missing_field"),
        ({"合同编号": {"a": 1}, "产品ID": "P1"}, "missing_field"),
        ({"合同编号": False, "产品ID": "P1"}, "missing_field"),
        ({"合同编号": "HT/1", "产品ID": "P1"}, "invalid_key"),
        ({"合同编号": "HT1", "产品ID": "P" * 65}, "invalid_key"),
        ({"合同编号": "HT1", "产品ID": "P\x001"}, "invalid_key"),
        ("HT1/P1", "not_an_object"),
        (["HT1", "P1"], "not_an_object"),
        (None, "not_an_object"),
    ],
)
def test_bad_entries_are_rejected_with_a_stable_reason(entry: object, reason: str) -> None:
    result = parse_deletion(7, entry)
    assert isinstance(result, Rejection)
    assert (result.index, result.reason) == (7, reason)
    assert result.message


def test_numbers_are_keys_too_as_in_uploads() -> None:
    assert parse_deletion(0, {"合同编号": 2023001, "产品ID": 1}) == Deletion(0, "2023001", "1")


def test_a_line_deleted_twice_in_one_request_is_rejected_the_second_time() -> None:
    deletions, rejections = parse_deletions(
        [
            {"合同编号": "A", "产品ID": "1"},
            {"合同编号": "Ａ", "产品ID": " 1"},
            {"合同编号": "A", "产品ID": "2"},
        ]
    )
    assert deletions == [Deletion(0, "A", "1"), Deletion(2, "A", "2")]
    assert [(r.index, r.reason, r.contract_no, r.product_id) for r in rejections] == [
        (1, "duplicate_in_batch", "A", "1")
    ]


def test_a_line_both_uploaded_and_deleted_is_rejected_on_both_sides() -> None:
    lines, _ = parse_lines([{"合同编号": "A", "产品ID": "1"}, {"合同编号": "A", "产品ID": "2"}])
    deletions, _ = parse_deletions(
        [{"合同编号": "B", "产品ID": "1"}, {"合同编号": "a".upper(), "产品ID": "1"}]
    )
    kept_lines, line_rejections, kept_deletions, deletion_rejections = split_conflicts(lines, deletions)
    assert [(x.contract_no, x.product_id) for x in kept_lines] == [("A", "2")]
    assert all(isinstance(x, Line) for x in kept_lines)
    assert kept_deletions == [Deletion(0, "B", "1")]
    assert [(r.index, r.reason) for r in line_rejections] == [(0, "uploaded_and_deleted")]
    assert [(r.index, r.reason, r.contract_no, r.product_id) for r in deletion_rejections] == [
        (1, "uploaded_and_deleted", "A", "1")
    ]
