"""Hypothesis laws of the merge (DELIVERY.md C1). ROLLSYNC_LAW_EXAMPLES=2000 runs the full count."""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.domain.fields import DEFAULT_POLICY, Strategy, erp_values
from rules.domain.merge import MergeSettings, Observation, merge
from rules.domain.provenance import Slot
from rules.domain.sync import differences

LAW = settings(
    max_examples=int(os.environ.get("ROLLSYNC_LAW_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
T0 = datetime(2025, 3, 1, tzinfo=UTC)
VALUES = {
    "phone": st.sampled_from(["13800138000", "139 0013 9000", "+86 137 0000 0000", "", None]),
    "company_name": st.sampled_from(
        ["汕头宏达彩印有限公司", "汕头　宏达彩印有限公司", "温州金峰印务", "None", None]
    ),
    "real_name": st.sampled_from(["张伟", "李娜", None]),
    "email": st.sampled_from(["a@x.cn", "b@x.cn", "c@x.cn", "", None]),
    "address": st.sampled_from(["汕头市龙湖区", "汕头市金平区", None]),
    "wechat_id": st.sampled_from(["wx_a", "wx_b", None]),
    "intent_score": st.sampled_from([10, 55, 90, None]),
}
ERP_KEYS = {
    "phone": "mobile",
    "company_name": "name",
    "real_name": "contact_name",
    "email": "email",
    "address": "address",
    "wechat_id": "wechat",
}


def minutes(low: int = 0, high: int = 6000) -> st.SearchStrategy[datetime]:
    return st.integers(low, high).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def local_obs(draw: st.DrawFn, times: st.SearchStrategy[datetime | None] | None = None) -> Observation:
    names = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True, max_size=5))
    values = {n: draw(VALUES[n]) for n in names}
    verified = draw(st.sets(st.sampled_from(["phone", "company_name", "real_name", "email"])))
    at = draw(times if times is not None else st.one_of(st.none(), minutes()))
    source = draw(st.sampled_from(["wechat", "ai", "manual"]))
    return Observation("local", at, values, dict.fromkeys(values, source), frozenset(verified & set(values)))


@st.composite
def erp_obs(draw: st.DrawFn, times: st.SearchStrategy[datetime] | None = None) -> Observation:
    record: dict[str, Any] = {ERP_KEYS[n]: draw(VALUES[n]) for n in ERP_KEYS}
    code = draw(st.sampled_from([None, "KH-000001", "KH-000002"]))
    at = draw(times if times is not None else minutes())
    return Observation("erp", at, erp_values(9, code, record), complete=True)


def windows() -> st.SearchStrategy[MergeSettings]:
    return st.sampled_from([timedelta(0), timedelta(hours=1)]).map(lambda w: MergeSettings(erp_window=w))


def fold(observations: list[Observation], s: MergeSettings) -> dict[str, Slot]:
    fields: dict[str, Slot] = {}
    for obs in observations:
        fields, _ = merge(fields, obs, s)
    return fields


history = st.lists(st.one_of(local_obs(), erp_obs()), max_size=6)


@LAW
@given(history, st.one_of(local_obs(), erp_obs()), windows())
def test_applying_the_same_input_twice_changes_nothing(
    past: list[Observation], obs: Observation, s: MergeSettings
) -> None:
    once, _ = merge(fold(past, s), obs, s)
    twice, changes = merge(once, obs, s)
    assert twice == once
    assert changes == []


@LAW
@given(
    st.lists(st.one_of(local_obs(minutes(0, 3000)), erp_obs(minutes(0, 3000))), max_size=6),
    erp_obs(minutes(3001, 9000)),
    erp_obs(minutes(3001, 9000)),
)
def test_two_erp_pulls_commute_under_latest_wins_by_time(
    past: list[Observation], p1: Observation, p2: Observation
) -> None:
    s = MergeSettings()  # every time known and no pull window: the policy decides by time alone
    base = fold([o for o in past if o.at is not None], s)
    assert p1.at is not None and p2.at is not None
    if p1.at == p2.at:
        p2 = Observation("erp", p2.at + timedelta(seconds=1), p2.values, complete=True)
    one_way, _ = merge(merge(base, p1, s)[0], p2, s)
    other_way, _ = merge(merge(base, p2, s)[0], p1, s)
    assert one_way == other_way


@LAW
@given(
    st.sampled_from(["phone", "company_name", "real_name"]),
    st.sampled_from(["13800138000", "汕头宏达彩印有限公司", "张伟"]),
    st.lists(erp_obs(), min_size=1, max_size=5),
    st.randoms(use_true_random=False),
    windows(),
)
def test_a_verified_local_core_value_survives_any_erp_order(
    field: str, value: str, pulls: list[Observation], rng: Any, s: MergeSettings
) -> None:
    verified = Observation("local", T0, {field: value}, verified=frozenset({field}))
    rng.shuffle(pulls)
    fields = fold([verified, *pulls], s)
    assert fields[field].value == merge({}, verified, s)[0][field].value
    assert fields[field].verified


@LAW
@given(history, erp_obs(minutes(7000, 9000)), windows())
def test_no_ping_pong_what_the_erp_just_said_is_never_pushed_back(
    past: list[Observation], pull: Observation, s: MergeSettings
) -> None:
    fields, changes = merge(fold(past, s), pull, s)
    pushed = differences(fields, DEFAULT_POLICY, creating=False)
    for name, value in pushed.items():
        assert fields[name].erp_value != value
    for change in changes:
        if change.source == "erp":
            assert pushed.get(change.field) != change.new


@LAW
@given(st.lists(erp_obs(), min_size=1, max_size=5), windows())
def test_a_customer_known_only_from_the_erp_has_nothing_to_push(
    pulls: list[Observation], s: MergeSettings
) -> None:
    fields = fold(pulls, s)
    assert differences(fields, DEFAULT_POLICY, creating=False) == {}


@LAW
@given(history, windows(), minutes(9001, 9999))
def test_repeating_what_each_side_already_said_is_a_no_op(
    past: list[Observation], s: MergeSettings, later: datetime
) -> None:
    fields = fold(past, s)
    erp_now = {n: slot.erp_value for n, slot in fields.items() if slot.erp is not None}
    again, changes = merge(fields, Observation("erp", later, erp_now), s)
    assert [c for c in changes if c.change_type != "merge"] == []
    assert {n: slot.value for n, slot in again.items()} == {n: slot.value for n, slot in fields.items()}


@LAW
@given(history, st.one_of(local_obs(), erp_obs()), windows())
def test_what_each_side_last_said_never_moves_back_in_time(
    past: list[Observation], obs: Observation, s: MergeSettings
) -> None:
    before = fold(past, s)
    after, _ = merge(before, obs, s)
    for name, old in before.items():
        new = after[name]
        if old.erp is not None:
            assert new.erp is not None and new.erp.seen_at >= old.erp.seen_at
        if old.local is not None and old.local.seen_at is not None:
            assert new.local is not None and new.local.seen_at is not None
            assert new.local.seen_at >= old.local.seen_at


@LAW
@given(history, windows())
def test_the_shown_value_is_always_one_a_side_offered(past: list[Observation], s: MergeSettings) -> None:
    for name, slot in fold(past, s).items():
        offered = {slot.erp_value, slot.local.value if slot.local else None}
        assert slot.value in offered | {None}
        if DEFAULT_POLICY.get(name) is Strategy.ERP_ALWAYS:
            assert slot.value == slot.erp_value
