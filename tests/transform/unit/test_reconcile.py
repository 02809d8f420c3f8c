"""The reconciliation digest and comparison (issue 9, contract point 5), checked against an independent hashlib."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from transform.domain.reconcile import (
    Digest,
    DigestError,
    LocalDigest,
    cloud_digests,
    compare,
    contract_hash,
    line_hash,
    parse_local,
)


def _independent(row: dict[str, Any]) -> str:
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_line_drops_empty_values_and_takes_the_effective_status_of_each_process() -> None:
    row = {"合同编号": "HT1", "产品ID": "P1", "备注": "", "交期": None, "热喷涂": "进行中", "数量": 4}
    expected = _independent(
        {"合同编号": "HT1", "产品ID": "P1", "热喷涂": "已完成", "数量": 4, "镀铬": "未开始"}
    )
    assert line_hash(row, {"热喷涂": "已完成", "镀铬": "未开始"}) == expected


def test_a_contract_hash_does_not_depend_on_line_order() -> None:
    a, b = _independent({"x": 1}), _independent({"x": 2})
    assert (
        contract_hash([a, b])
        == contract_hash([b, a])
        == hashlib.sha256(f"{min(a, b)}\n{max(a, b)}".encode()).hexdigest()
    )


def test_cloud_digests_count_and_hash_per_contract() -> None:
    lines = [("A", {"k": "1"}, {}), ("A", {"k": "2"}, {"p": "已完成"}), ("B", {"k": "3"}, {})]
    got = cloud_digests(lines)
    assert got["A"] == Digest(
        2, contract_hash([_independent({"k": "1"}), _independent({"k": "2", "p": "已完成"})])
    )
    assert got["B"].lines == 1


H = "a" * 64


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ([], "invalid_request"),
        ({"contracts": {}}, "invalid_request"),
        ({"contracts": [], "complete": "yes"}, "invalid_complete"),
        ({"contracts": ["HT1"]}, "invalid_contract"),
        ({"contracts": [{"lines": 1, "hash": H}]}, "invalid_contract_no"),
        ({"contracts": [{"合同编号": " ", "lines": 1, "hash": H}]}, "invalid_contract_no"),
        ({"contracts": [{"合同编号": True, "lines": 1, "hash": H}]}, "invalid_contract_no"),
        ({"contracts": [{"合同编号": "H" * 65, "lines": 1, "hash": H}]}, "invalid_contract_no"),
        ({"contracts": [{"合同编号": "HT1", "lines": -1, "hash": H}]}, "invalid_lines"),
        ({"contracts": [{"合同编号": "HT1", "lines": "3", "hash": H}]}, "invalid_lines"),
        ({"contracts": [{"合同编号": "HT1", "lines": True, "hash": H}]}, "invalid_lines"),
        ({"contracts": [{"合同编号": "HT1", "lines": 1.5, "hash": H}]}, "invalid_lines"),
        ({"contracts": [{"合同编号": "HT1", "lines": 1, "hash": "abc"}]}, "invalid_hash"),
        ({"contracts": [{"合同编号": "HT1", "lines": 1, "hash": "g" * 64}]}, "invalid_hash"),
        ({"contracts": [{"合同编号": "HT1", "lines": 1, "hash": H + "0"}]}, "invalid_hash"),
        ({"contracts": [{"合同编号": "HT1", "lines": 1}]}, "invalid_hash"),
        (
            {
                "contracts": [
                    {"合同编号": "HT1", "lines": 1, "hash": H},
                    {"合同编号": "ＨＴ1 ", "lines": 1, "hash": H},
                ]
            },
            "duplicate_contract",
        ),
        (
            {"contracts": [{"合同编号": f"H{i}", "lines": 1, "hash": H} for i in range(11)]},
            "too_many_contracts",
        ),
    ],
)
def test_a_bad_digest_is_refused_whole_with_a_stable_code(body: object, code: str) -> None:
    with pytest.raises(DigestError) as err:
        parse_local(body, max_contracts=10)
    assert err.value.code == code
    assert str(err.value)


def test_keys_are_normalised_as_ingest_keys_lines_and_hashes_lowercased() -> None:
    local = parse_local(
        {"contracts": [{"合同编号": " ＨＴ１ ", "lines": 2, "hash": "AB" * 32}], "complete": True}, 10
    )
    assert local == LocalDigest({"HT1": Digest(2, "ab" * 32)}, complete=True)
    assert parse_local({"contracts": []}, 10).complete is False


def test_each_kind_of_difference_is_named() -> None:
    same, other = Digest(1, "1" * 64), Digest(1, "2" * 64)
    cloud = {
        "same": same,
        "changed": same,
        "fewer": Digest(2, same.hash),
        "cloud_only": same,
        "gone": Digest(0, H),
    }
    local = {
        "same": same,
        "changed": other,
        "fewer": same,
        "local_only": same,
        "gone": Digest(0, H),
        "none": Digest(0, H),
    }
    outcome = compare(LocalDigest(local, complete=True), cloud)
    assert outcome.missing_in_cloud == ["local_only"]
    assert outcome.missing_locally == ["cloud_only"]
    assert outcome.different == ["changed", "fewer"]
    assert outcome.checked == 7


def test_a_partial_digest_does_not_call_unlisted_cloud_contracts_missing() -> None:
    same = Digest(1, H)
    outcome = compare(
        LocalDigest({"a": same, "b": Digest(0, H)}, complete=False), {"a": same, "b": same, "c": same}
    )
    assert (outcome.missing_locally, outcome.missing_in_cloud, outcome.different) == (["b"], [], [])
    assert outcome.checked == 2
