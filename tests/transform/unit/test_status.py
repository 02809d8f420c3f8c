import pytest

from transform.domain.status import (
    ProcessStatus,
    TransitionError,
    allowed_next,
    can_transition,
    check_transition,
    parse_status,
)

S = ProcessStatus


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("未开始", S.NOT_STARTED),
        ("未开工", S.NOT_STARTED),
        ("进行中", S.IN_PROGRESS),
        ("开始", S.IN_PROGRESS),
        ("加工中", S.IN_PROGRESS),
        ("生产中", S.IN_PROGRESS),
        ("已完成", S.DONE),
        ("完成", S.DONE),
        ("完工", S.DONE),
        ("已完工", S.DONE),
        ("done", S.DONE),
        ("DONE", S.DONE),
        (" 已完成\u3000", S.DONE),
        ("暂停", S.PAUSED),
        ("暂停中", S.PAUSED),
        ("停止", S.PAUSED),
        ("返工", S.REWORK),
        ("重做", S.REWORK),
        ("待检", S.AWAITING_INSPECTION),
        ("待检验", S.AWAITING_INSPECTION),
        ("报废", S.SCRAPPED),
        ("In  Progress", S.IN_PROGRESS),
    ],
)
def test_status_words_and_their_synonyms_are_recognised(word: str, expected: ProcessStatus) -> None:
    assert parse_status(word) is expected


@pytest.mark.parametrize("word", ["", "√", "OK", "作废", "已完成了吗", "'; DROP TABLE x;--", "42"])
def test_unknown_words_are_none_for_the_caller_to_report(word: str) -> None:
    assert parse_status(word) is None


def test_the_vocabulary_is_the_domain_list() -> None:
    assert [s.value for s in ProcessStatus] == ["未开始", "进行中", "已完成", "暂停", "返工", "待检", "报废"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.NOT_STARTED, S.IN_PROGRESS),
        (None, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.DONE),
        (S.IN_PROGRESS, S.PAUSED),
        (S.PAUSED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.REWORK),
        (S.DONE, S.REWORK),
        (S.REWORK, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.AWAITING_INSPECTION),
        (S.AWAITING_INSPECTION, S.DONE),
        (S.AWAITING_INSPECTION, S.REWORK),
        (S.NOT_STARTED, S.SCRAPPED),
        (S.DONE, S.SCRAPPED),
        (S.PAUSED, S.SCRAPPED),
        (S.DONE, S.DONE),
        (S.SCRAPPED, S.SCRAPPED),
    ],
)
def test_allowed_transitions(old: ProcessStatus | None, new: ProcessStatus) -> None:
    assert can_transition(old, new)
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.NOT_STARTED, S.DONE),
        (None, S.DONE),
        (S.DONE, S.IN_PROGRESS),
        (S.DONE, S.NOT_STARTED),
        (S.PAUSED, S.DONE),
        (S.REWORK, S.DONE),
        (S.NOT_STARTED, S.AWAITING_INSPECTION),
        (S.AWAITING_INSPECTION, S.PAUSED),
        (S.SCRAPPED, S.IN_PROGRESS),
        (S.SCRAPPED, S.REWORK),
    ],
)
def test_impossible_transitions_are_rejected_with_a_reason(
    old: ProcessStatus | None, new: ProcessStatus
) -> None:
    assert not can_transition(old, new)
    with pytest.raises(TransitionError) as caught:
        check_transition(old, new)
    assert str(new) in str(caught.value)
    assert "allowed:" in str(caught.value)


def test_the_reason_lists_what_would_have_been_allowed() -> None:
    with pytest.raises(TransitionError, match=r"allowed: 已完成、返工、报废\)"):
        check_transition(S.DONE, S.IN_PROGRESS)


def test_every_status_can_stay_and_can_be_scrapped() -> None:
    for status in ProcessStatus:
        assert {status, S.SCRAPPED} <= allowed_next(status)
    assert allowed_next(S.SCRAPPED) == {S.SCRAPPED}
