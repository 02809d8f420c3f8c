"""What a push writes, whom it adopts, when a save counts as stored; masking; run state."""

from __future__ import annotations

from erp_connector.domain.control import ControlState, RunState
from erp_connector.domain.customer import ErpCustomer
from erp_connector.domain.fingerprint import fingerprint, matches
from erp_connector.domain.masking import mask_phones, mask_value
from erp_connector.domain.push import exact_code_match, exact_name_match, fields_to_write, mismatched_fields


def test_our_code_goes_into_khid_and_defaults_sit_under_the_request() -> None:
    intsort, fields = fields_to_write(
        {"name": " 甲 ", "sort1": "102", "mobile": 13800138000}, {"sort1": "101"}, "KH-1"
    )
    assert intsort == 1
    assert fields == {"name": "甲", "sort1": "102", "mobile": "13800138000", "khid": "KH-1"}


def test_empty_values_and_undocumented_ids_are_never_sent() -> None:
    _, fields = fields_to_write(
        {
            "name": "甲",
            "email": None,
            "address": "  ",
            "wechat_nickname": "阿甲",
            "business_license_info": {"a": 1},
        },
        {},
        "KH-2",
    )
    assert fields == {"name": "甲", "khid": "KH-2"}


def test_without_a_code_any_khid_in_the_request_is_left_alone_in_the_erp() -> None:
    intsort, fields = fields_to_write({"name": "甲", "khid": "C0001", "intsort": "2", "ord": 5}, {}, None)
    assert intsort == 2
    assert fields == {"name": "甲"}


def test_fuzzy_results_are_compared_exactly() -> None:
    found = [ErpCustomer(3, code="KH-10"), ErpCustomer(4, code="KH-100"), ErpCustomer(9, code="KH-1")]
    assert exact_code_match(found, "KH-1") == ErpCustomer(9, code="KH-1")
    assert exact_code_match(found, "KH-2") is None


def test_a_name_match_prefers_a_record_without_a_code() -> None:
    found = [
        ErpCustomer(3, name="甲公司", code="C1"),
        ErpCustomer(8, name="甲公司"),
        ErpCustomer(2, name="甲公司二"),
    ]
    assert exact_name_match(found, " 甲公司") == ErpCustomer(8, name="甲公司")
    assert exact_name_match([ErpCustomer(2, name="甲公司二")], "甲公司") is None


def test_read_back_compares_trimmed_values_and_skips_fields_it_cannot_see() -> None:
    stored = {"name": "甲公司 ", "mobile": "", "sort1": "101"}
    assert mismatched_fields({"name": "甲公司", "sort1": "101", "weird": "x"}, stored) == []
    assert mismatched_fields({"name": "乙公司", "mobile": "13800138000"}, stored) == ["mobile", "name"]


def test_phone_numbers_are_masked_everywhere_in_a_summary() -> None:
    assert mask_phones("call 13800138000 or 0754-88889999") == "call 138****8000 or 0754-****9999"
    assert mask_phones("ord 1001, 2024-06-30") == "ord 1001, 2024-06-30"
    summary = {"datas": {"mobile": "13912345678", "list": ["15011112222"]}, "n": 3}
    assert mask_value(summary) == {"datas": {"mobile": "139****5678", "list": ["150****2222"]}, "n": 3}


def test_a_credentials_stop_outranks_a_pause_and_lifts_when_credentials_change() -> None:
    state = ControlState().pause("paused by operator").stop_auth("用户名或密码错误")
    assert state.state is RunState.STOPPED_AUTH
    assert state.reason == "用户名或密码错误"
    assert state.credentials_changed().state is RunState.PAUSED
    assert ControlState().stop_auth("x").credentials_changed().state is RunState.RUNNING
    assert state.resume().state is RunState.RUNNING


def test_the_credentials_fingerprint_matches_only_the_same_credentials() -> None:
    fp = fingerprint("rollsync", "s3cret-password")
    assert "s3cret" not in fp
    assert matches(fp, "rollsync", "s3cret-password")
    assert not matches(fp, "rollsync", "other-password")
    assert not matches(fp, "someone", "s3cret-password")
    assert fingerprint("rollsync", "s3cret-password") != fp  # salted
    assert not matches(None, "rollsync", "x")
    assert not matches("garbage", "rollsync", "x")
