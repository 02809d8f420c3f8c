"""The process catalogue's pure checks: names, aliases, routes, weights; and aliases at standardisation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from transform.domain.mapping import DEFAULT_MAPPING, standardize
from transform.domain.process_catalog import (
    Catalog,
    CatalogEntry,
    CatalogError,
    RouteStep,
    clean_name,
    clean_names,
    parse_route,
    parse_weight,
    parse_weights,
    route_seqs,
)
from transform.domain.routes import DEFAULT_ROUTES, DEFAULT_TYPE_RULES, catalog_from_rows

SPRAY = CatalogEntry(11, "热喷涂", ("喷涂(底层)",), ("热喷",), True, 3)
GRIND = CatalogEntry(12, "陶瓷磨削", (), (), True, 1)
OLD = CatalogEntry(20, "退镀", (), (), False, 2)
CATALOG = Catalog([SPRAY, GRIND, OLD])


def _code(exc: pytest.ExceptionInfo[CatalogError]) -> tuple[int, str]:
    return exc.value.status, exc.value.code


def test_a_full_width_name_is_stored_half_width_and_trimmed() -> None:
    assert clean_name("  热喷涂（底层）ＡＢ ") == "热喷涂(底层)AB"


@pytest.mark.parametrize("value", ["", "   ", None, 7, "a/b", "x" * 41, "坏\x07名", ["热喷涂"]])
def test_a_name_that_cannot_be_a_column_is_invalid(value: object) -> None:
    with pytest.raises(CatalogError) as exc:
        clean_name(value)
    assert _code(exc) == (422, "invalid_name")


def test_the_same_alias_twice_in_any_width_or_case_is_a_duplicate() -> None:
    with pytest.raises(CatalogError) as exc:
        clean_names(["Ab喷", "ａｂ喷"])
    assert _code(exc) == (422, "duplicate_name")


def test_too_many_aliases_and_a_non_list_are_refused() -> None:
    with pytest.raises(CatalogError) as many:
        clean_names([f"别名{i}" for i in range(21)])
    with pytest.raises(CatalogError) as not_list:
        clean_names("别名")
    assert (_code(many), _code(not_list)) == ((422, "too_many_aliases"), (422, "invalid_request"))


def test_any_name_of_a_process_resolves_to_it() -> None:
    assert CATALOG.find("热喷涂") is SPRAY
    assert CATALOG.find("喷涂（底层）") is SPRAY  # alias, full-width parentheses
    assert CATALOG.find("热喷") is SPRAY  # former name
    assert CATALOG.find("抛光") is None


def test_a_name_of_another_process_or_a_contract_field_is_not_free() -> None:
    with pytest.raises(CatalogError) as taken:
        CATALOG.check_free(["热喷"], frozenset())
    with pytest.raises(CatalogError) as field:
        CATALOG.check_free(["甲方"], frozenset({"甲方"}))
    assert (_code(taken), _code(field)) == ((422, "duplicate_name"), (422, "reserved_name"))
    CATALOG.check_free(["热喷"], frozenset(), own_id=SPRAY.process_id)  # its own former name: a rename back


def test_a_route_keeps_its_weights_and_takes_new_ones_in_the_given_order() -> None:
    steps = parse_route(
        {"steps": ["陶瓷磨削", {"process": "喷涂(底层)", "weight": "2.5"}]},
        CATALOG,
        {"陶瓷磨削": Decimal("4.5")},
    )
    assert steps == (RouteStep("陶瓷磨削", Decimal("4.5")), RouteStep("热喷涂", Decimal("2.5")))
    assert route_seqs(3) == [10, 20, 30]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"steps": []}, "invalid_route"),
        ({"route": ["热喷涂"]}, "invalid_route"),
        ([], "invalid_route"),
        ({"steps": ["热喷涂"] * 61}, "too_many_steps"),
        ({"steps": ["热喷涂", "热喷"]}, "duplicate_in_route"),  # a former name is the same step
        ({"steps": ["无此工序"]}, "unknown_process"),
        ({"steps": ["退镀"]}, "process_retired"),
        ({"steps": [{"process": "热喷涂", "weight": 0}]}, "invalid_weight"),
        ({"steps": [{"weight": 1}]}, "invalid_name"),
    ],
)
def test_a_bad_route_gets_a_stable_code(body: object, code: str) -> None:
    with pytest.raises(CatalogError) as exc:
        parse_route(body, CATALOG, {})
    assert _code(exc) == (422, code)


@pytest.mark.parametrize("value", [0, -1, "abc", True, None, "1.234", 1_000_000, "NaN", "Infinity", [1]])
def test_a_weight_must_be_a_positive_number_with_two_decimals(value: object) -> None:
    with pytest.raises(CatalogError) as exc:
        parse_weight(value, "热喷涂")
    assert _code(exc) == (422, "invalid_weight")


def test_weights_resolve_names_and_must_be_on_the_route() -> None:
    assert parse_weights({"weights": {"热喷": 3}}, CATALOG, ["热喷涂"]) == {"热喷涂": Decimal(3)}
    with pytest.raises(CatalogError) as off_route:
        parse_weights({"weights": {"陶瓷磨削": 3}}, CATALOG, ["热喷涂"])
    with pytest.raises(CatalogError) as twice:
        parse_weights({"weights": {"热喷涂": 3, "热喷": 2}}, CATALOG, ["热喷涂"])
    with pytest.raises(CatalogError) as unknown:
        parse_weights({"weights": {"无此工序": 3}}, CATALOG, ["热喷涂"])
    assert _code(off_route) == (422, "process_not_in_route")
    assert _code(twice) == (422, "duplicate_name")
    assert _code(unknown) == (422, "unknown_process")  # a body item, not the path


def test_an_alias_column_lands_on_its_process_and_a_second_spelling_is_kept_aside() -> None:
    catalog = catalog_from_rows(
        DEFAULT_ROUTES,
        DEFAULT_TYPE_RULES,
        "gravure",
        process_names=[("热喷涂工序", "热喷涂"), ("热喷涂", "热喷涂")],
    )
    row = standardize({"合同编号": "H1", "产品ID": "P1", "热喷涂工序": "进行中"}, DEFAULT_MAPPING, catalog)
    assert row.process_statuses["热喷涂"] == "进行中" and row.unknown_columns == {}
    both = standardize(
        {"合同编号": "H1", "产品ID": "P1", "热喷涂": "已完成", "热喷涂工序": "进行中"},
        DEFAULT_MAPPING,
        catalog,
    )
    assert both.process_statuses["热喷涂"] == "已完成"
    assert both.unknown_columns == {"热喷涂工序": "进行中"} and both.issues
    assert catalog.canonical("热喷涂工序") == "热喷涂" and catalog.canonical("别的") == "别的"


def test_a_catalogue_process_on_no_route_still_holds_a_status() -> None:
    catalog = catalog_from_rows(
        DEFAULT_ROUTES, DEFAULT_TYPE_RULES, "gravure", process_names=[("新工序Z", "新工序Z")]
    )
    row = standardize({"合同编号": "H1", "产品ID": "P1", "新工序Z": "进行中"}, DEFAULT_MAPPING, catalog)
    assert row.process_statuses["新工序Z"] == "进行中" and row.unknown_columns == {}
    # A line without its column gets no state for it (route processes get one each, NULL: not applicable).
    other = standardize({"合同编号": "H1", "产品ID": "P2", "热喷涂": "进行中"}, DEFAULT_MAPPING, catalog)
    assert "新工序Z" not in other.process_statuses
    assert set(other.process_statuses) == catalog.route_process_names
