import re

import pytest

from transform.domain.content_hash import content_hash

ROW = {
    "产品ID": "P20230917001",
    "合同编号": "HT2023001",
    "甲方": "客户A",
    "产品名称": "凹版印刷辊",
    "基辊加工": "已完成",
    "热喷涂": "进行中",
}


def test_the_hash_is_sha256_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", content_hash(ROW))


def test_width_spacing_and_key_order_do_not_change_it() -> None:
    variant = {
        "热喷涂 ": " 进行中",
        "基辊加工": "已完成\u3000",
        "产品名称": "凹版印刷辊",
        "甲方": "客户Ａ",
        "合同编号": "ＨＴ２０２３００１",
        "\ufeff产品ＩＤ": "P20230917001",
    }
    assert content_hash(variant) == content_hash(ROW)


def test_sync_bookkeeping_columns_are_ignored() -> None:
    synced = {**ROW, "sync_status": "synced", "sync_time": "2023-09-17 08:30", "cloud_contract_id": 9}
    assert content_hash({**synced, "last_sync_hash": "x"}) == content_hash(ROW)


def test_an_empty_column_is_the_same_as_a_missing_one() -> None:
    assert content_hash({**ROW, "备注": None, "规格": ""}) == content_hash(ROW)


@pytest.mark.parametrize(
    "change",
    [
        {"热喷涂": "已完成"},
        {"甲方": "客户B"},
        {"甲方": None},
        {"备注": "加急"},
        {"合同编号": "HT2023002"},
        {"数量": 4},
    ],
)
def test_any_business_change_changes_it(change: dict[str, object]) -> None:
    assert content_hash({**ROW, **change}) != content_hash(ROW)


def test_moving_a_value_to_another_column_changes_it() -> None:
    swapped = {**ROW, "基辊加工": "进行中", "热喷涂": "已完成"}
    assert content_hash(swapped) != content_hash(ROW)


def test_two_headers_that_normalise_alike_both_count() -> None:
    once = {**ROW, "备注": "a"}
    twice = {**ROW, "备注": "a", "备注 ": "b"}
    assert content_hash(twice) != content_hash(once)
    assert content_hash(twice) == content_hash({**ROW, "备注 ": "b", "备注": "a"})
