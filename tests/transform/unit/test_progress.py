from decimal import Decimal

import pytest

from transform.domain.progress import Progress, compute_progress
from transform.domain.routes import DEFAULT_CATALOG, ProcessRoute, ProcessStep
from transform.domain.status import ProcessStatus

S = ProcessStatus
THREE_STEPS = ProcessRoute(
    "test",
    (
        ProcessStep("a", 10, Decimal(1)),
        ProcessStep("b", 20, Decimal(2)),
        ProcessStep("c", 30, Decimal(3)),
    ),
)


def progress(statuses: dict[str, ProcessStatus | None]) -> Progress:
    return compute_progress(THREE_STEPS, statuses)


def test_nothing_reported_means_the_whole_route_lies_ahead() -> None:
    assert progress({}) == Progress(Decimal("0.0"), "a", False)
    assert progress({"a": None, "b": None}) == Progress(Decimal("0.0"), "a", False)


def test_all_done_is_finished_at_one_hundred() -> None:
    result = progress({"a": S.DONE, "b": S.DONE, "c": S.DONE})
    assert result == Progress(Decimal("100.0"), None, True)
    assert str(result.percentage) == "100.0"


@pytest.mark.parametrize(
    ("statuses", "percentage", "current"),
    [
        ({"a": S.DONE, "b": S.IN_PROGRESS, "c": S.NOT_STARTED}, "16.7", "b"),
        ({"a": S.DONE, "b": S.DONE, "c": S.NOT_STARTED}, "50.0", "c"),
        ({"a": S.DONE, "b": S.PAUSED, "c": S.NOT_STARTED}, "16.7", "b"),
        ({"a": S.DONE, "b": S.AWAITING_INSPECTION, "c": S.NOT_STARTED}, "16.7", "b"),
        ({"a": S.NOT_STARTED, "b": S.DONE, "c": S.DONE}, "83.3", "a"),
    ],
)
def test_percentage_is_finished_weight_over_applicable_weight(
    statuses: dict[str, ProcessStatus | None], percentage: str, current: str
) -> None:
    assert progress(statuses) == Progress(Decimal(percentage), current, False)


def test_null_steps_are_not_applicable_once_anything_is_reported() -> None:
    assert progress({"a": S.DONE, "b": None, "c": S.IN_PROGRESS}) == Progress(Decimal("25.0"), "c", False)
    assert progress({"a": S.DONE, "b": None, "c": S.DONE}) == Progress(Decimal("100.0"), None, True)


def test_an_open_step_keeps_the_percentage_below_one_hundred() -> None:
    route = ProcessRoute(
        "tiny-last-step", (ProcessStep("big", 10, Decimal(1000)), ProcessStep("tiny", 20, Decimal("0.01")))
    )
    assert compute_progress(route, {"big": S.DONE, "tiny": S.IN_PROGRESS}) == Progress(
        Decimal("99.9"), "tiny", False
    )


def test_rework_takes_a_finished_step_back() -> None:
    before = progress({"a": S.DONE, "b": S.DONE, "c": S.IN_PROGRESS})
    after = progress({"a": S.DONE, "b": S.REWORK, "c": S.IN_PROGRESS})
    assert before == Progress(Decimal("50.0"), "c", False)
    assert after == Progress(Decimal("16.7"), "b", False)


def test_scrap_points_at_the_scrapped_step_and_never_finishes() -> None:
    result = progress({"a": S.DONE, "b": S.DONE, "c": S.SCRAPPED})
    assert result == Progress(Decimal("50.0"), "c", False)
    early_scrap = progress({"a": S.NOT_STARTED, "b": S.SCRAPPED, "c": S.NOT_STARTED})
    assert early_scrap.current_process == "b"


def test_a_process_outside_the_route_is_appended_with_weight_one() -> None:
    result = progress({"a": S.DONE, "b": S.DONE, "c": S.DONE, "z": S.IN_PROGRESS})
    assert result == Progress(Decimal("85.7"), "z", False)
    assert progress({"a": S.DONE, "z": S.DONE, "y": S.NOT_STARTED}).current_process == "y"


def test_appended_processes_are_ordered_by_name_not_by_column_order() -> None:
    first = progress({"z": S.NOT_STARTED, "y": S.NOT_STARTED})
    second = progress({"y": S.NOT_STARTED, "z": S.NOT_STARTED})
    assert first == second
    assert first.current_process == "y"


def test_the_seed_row_on_the_default_gravure_route() -> None:
    route = DEFAULT_CATALOG.route_for({"product_name": "凹版印刷辊"})
    statuses = {"基辊加工": S.DONE, "热喷涂": S.IN_PROGRESS}
    assert compute_progress(route, statuses) == Progress(Decimal("46.2"), "热喷涂", False)
    statuses |= {"热喷涂": S.DONE, "陶瓷磨削": S.IN_PROGRESS}
    assert compute_progress(route, statuses).current_process == "陶瓷磨削"


@pytest.mark.parametrize(
    ("product_type", "first", "last"),
    [
        ("gravure", "基辊加工", "包装发货"),
        ("anilox", "基辊加工", "包装发货"),
        ("chrome", "基辊加工", "包装发货"),
        ("repair", "退铬退铜", "包装发货"),
    ],
)
def test_each_default_route_runs_from_start_to_shipping(product_type: str, first: str, last: str) -> None:
    route = DEFAULT_CATALOG.routes[product_type]
    assert compute_progress(route, {}).current_process == first
    all_but_last = dict.fromkeys(route.step_names[:-1], S.DONE) | {last: S.NOT_STARTED}
    almost = compute_progress(route, all_but_last)
    assert almost.current_process == last
    assert Decimal(95) < almost.percentage < Decimal(100)
    done = compute_progress(route, dict.fromkeys(route.step_names, S.DONE))
    assert done == Progress(Decimal("100.0"), None, True)


def test_anilox_weights_make_engraving_the_big_step() -> None:
    route = DEFAULT_CATALOG.routes["anilox"]
    before = dict.fromkeys(route.step_names, S.NOT_STARTED) | {"基辊加工": S.DONE}
    assert compute_progress(route, before).percentage == Decimal("25.6")  # 11 of 43 h
    assert compute_progress(route, before | {"雕刻": S.DONE}).percentage == Decimal("61.6")  # 26.5 of 43 h
