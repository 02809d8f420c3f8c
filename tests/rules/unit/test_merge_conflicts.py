"""Each conflict class of seed 004 (DOMAIN.md §6), in both directions: local first, then ERP; ERP first, then local."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rules.domain.fields import Strategy, erp_values
from rules.domain.merge import Change, MergeSettings, Observation, merge
from rules.domain.provenance import Slot

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = MergeSettings(erp_window=HOUR)


def local(at: datetime, verified: tuple[str, ...] = (), **values: Any) -> Observation:
    return Observation("local", at, values, verified=frozenset(verified))


def erp(at: datetime, erp_id: int = 501, code: str | None = None, **record: Any) -> Observation:
    return Observation("erp", at, erp_values(erp_id, code, record), complete=True)


def run(
    *observations: Observation, settings: MergeSettings = SETTINGS
) -> tuple[dict[str, Slot], list[Change]]:
    fields: dict[str, Slot] = {}
    changes: list[Change] = []
    for obs in observations:
        fields, changes = merge(fields, obs, settings)
    return fields, changes


def one(changes: list[Change], field: str) -> Change:
    found = [c for c in changes if c.field == field]
    assert len(found) == 1, changes
    return found[0]


# ERP identifiers: the ERP always wins.


def test_erp_identifiers_come_from_the_erp_and_never_from_a_capture() -> None:
    fields, changes = run(erp(T0, erp_id=7, code="KH-000001"), local(T0 + HOUR, erp_customer_code="X-1"))
    assert fields["erp_customer_id"].value == 7
    assert fields["erp_customer_code"].value == "KH-000001"
    assert changes == []


def test_a_new_erp_code_replaces_the_old_one() -> None:
    fields, changes = run(erp(T0, code="OLD-1"), erp(T0 + HOUR, code="NEW-1"))
    assert fields["erp_customer_code"].value == "NEW-1"
    assert one(changes, "erp_customer_code").change_type == "update"


# Core fields: the ERP wins unless the local value is verified.


def test_erp_phone_replaces_an_unverified_local_phone_as_a_conflict() -> None:
    fields, changes = run(local(T0, phone="13800138000"), erp(T0 + HOUR, mobile="13900139000"))
    assert fields["phone"].value == "13900139000"
    assert fields["phone"].source == "erp"
    change = one(changes, "phone")
    assert (change.change_type, change.old, change.new) == ("conflict", "13800138000", "13900139000")
    assert "以 ERP 为准" in change.reason


def test_a_verified_local_phone_survives_a_different_erp_phone_and_the_conflict_is_named() -> None:
    fields, changes = run(local(T0, ("phone",), phone="13800138000"), erp(T0 + HOUR, mobile="13900139000"))
    assert fields["phone"].value == "13800138000"
    assert fields["phone"].verified
    assert fields["phone"].erp_value == "13900139000"
    change = one(changes, "phone")
    assert change.change_type == "conflict"
    assert change.incoming == "13900139000"
    assert "本地已验证" in change.reason


def test_an_unverified_capture_does_not_replace_the_erp_phone() -> None:
    fields, changes = run(erp(T0, mobile="13900139000"), local(T0 + HOUR, phone="13800138000"))
    assert fields["phone"].value == "13900139000"
    change = one(changes, "phone")
    assert (change.change_type, change.incoming) == ("conflict", "13800138000")
    assert "保留 ERP 值" in change.reason


def test_a_verified_capture_replaces_the_erp_phone() -> None:
    fields, changes = run(erp(T0, mobile="13900139000"), local(T0 + HOUR, ("phone",), phone="13800138000"))
    assert fields["phone"].value == "13800138000"
    assert fields["phone"].source == "wechat"
    assert one(changes, "phone").change_type == "conflict"


def test_a_local_only_core_value_stays_when_the_erp_has_none() -> None:
    fields, changes = run(local(T0, company_name="汕头宏达彩印有限公司"), erp(T0 + HOUR, name=None))
    assert fields["company_name"].value == "汕头宏达彩印有限公司"
    assert not [c for c in changes if c.field == "company_name"]


def test_verifying_the_value_the_erp_already_has_is_recorded_as_verification() -> None:
    fields, changes = run(erp(T0, mobile="13900139000"), local(T0 + HOUR, ("phone",), phone="139 0013 9000"))
    assert fields["phone"].value == "13900139000"
    assert fields["phone"].verified
    assert one(changes, "phone").change_type == "verify"


# Supplementary WeChat fields: local wins; the ERP only fills an empty field.


def test_the_erp_fills_an_empty_wechat_field() -> None:
    fields, changes = run(local(T0, wechat_nickname="老王"), erp(T0 + HOUR, wechat="wx_from_erp"))
    assert fields["wechat_id"].value == "wx_from_erp"
    assert one(changes, "wechat_id").change_type == "fill"


def test_a_different_erp_wechat_id_never_replaces_ours() -> None:
    fields, changes = run(local(T0, wechat_id="wx_ours"), erp(T0 + HOUR, wechat="wx_theirs"))
    assert fields["wechat_id"].value == "wx_ours"
    change = one(changes, "wechat_id")
    assert (change.change_type, change.incoming) == ("conflict", "wx_theirs")


def test_a_capture_replaces_an_erp_filled_wechat_id() -> None:
    fields, changes = run(erp(T0, wechat="wx_theirs"), local(T0 - HOUR, wechat_id="wx_ours"))
    assert fields["wechat_id"].value == "wx_ours"
    assert one(changes, "wechat_id").change_type == "conflict"


# Other fields: the latest wins; undecidable → merge.


def test_a_later_erp_email_wins() -> None:
    fields, changes = run(local(T0, email="old@a.cn"), erp(T0 + 3 * HOUR, email="new@a.cn"))
    assert fields["email"].value == "new@a.cn"
    assert "ERP 更新时间更晚" in one(changes, "email").reason


def test_a_later_local_email_wins() -> None:
    fields, changes = run(erp(T0, email="old@a.cn"), local(T0 + HOUR, email="new@a.cn"))
    assert fields["email"].value == "new@a.cn"
    assert "本地更新时间更晚" in one(changes, "email").reason


def test_an_older_capture_does_not_beat_a_newer_erp_value() -> None:
    fields, changes = run(erp(T0 + 3 * HOUR, email="erp@a.cn"), local(T0, email="old@a.cn"))
    assert fields["email"].value == "erp@a.cn"
    assert one(changes, "email").change_type == "conflict"


def test_changes_on_both_sides_within_one_pull_window_go_to_manual_merge() -> None:
    fields, changes = run(local(T0, address="汕头市龙湖区"), erp(T0 + HOUR / 2, address="汕头市金平区"))
    assert fields["address"].value == "汕头市龙湖区"  # unchanged
    assert fields["address"].pending is not None
    assert fields["address"].pending.value == "汕头市金平区"
    change = one(changes, "address")
    assert (change.change_type, change.incoming) == ("merge", "汕头市金平区")


def test_a_missing_time_goes_to_manual_merge() -> None:
    fields, changes = run(erp(T0, email="erp@a.cn"), local(None, email="mine@a.cn"))  # type: ignore[arg-type]
    assert fields["email"].value == "erp@a.cn"
    assert one(changes, "email").change_type == "merge"


def test_a_later_capture_resolves_a_pending_merge() -> None:
    fields, _ = run(
        local(T0, address="汕头市龙湖区"),
        erp(T0 + HOUR / 2, address="汕头市金平区"),
        local(T0 + 3 * HOUR, address="汕头市澄海区"),
    )
    assert fields["address"].value == "汕头市澄海区"
    assert fields["address"].pending is None


def test_the_policy_table_changes_a_fields_class() -> None:
    settings = MergeSettings(policy={"email": Strategy.LOCAL_WINS})
    fields, _ = run(local(T0, email="mine@a.cn"), erp(T0 + 3 * HOUR, email="erp@a.cn"), settings=settings)
    assert fields["email"].value == "mine@a.cn"


@pytest.mark.parametrize("empty", ["", "None", None, "  "])
def test_an_empty_erp_value_never_clears_a_local_one(empty: object) -> None:
    fields, changes = run(local(T0, email="mine@a.cn"), erp(T0 + HOUR * 3, email=empty))
    assert fields["email"].value == "mine@a.cn"
    assert changes == [] or all(c.field != "email" for c in changes)


def test_the_erp_clearing_its_own_value_clears_it_here() -> None:
    fields, changes = run(erp(T0, email="erp@a.cn"), erp(T0 + HOUR, email=""))
    assert fields["email"].value is None
    assert one(changes, "email").reason == "ERP 已清空该字段"


def test_changes_are_listed_by_field_priority() -> None:
    _, changes = run(
        local(T0, wechat_nickname="n", email="e@a.cn", phone="13800138000", company_name="某某公司")
    )
    assert [c.field for c in changes] == ["phone", "company_name", "email", "wechat_nickname"]
