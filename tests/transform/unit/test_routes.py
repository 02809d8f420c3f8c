from decimal import Decimal

import pytest

from transform.domain.route_data import DEFAULT_TYPE_ALIASES
from transform.domain.routes import (
    DEFAULT_CATALOG,
    DEFAULT_ROUTES,
    DEFAULT_TYPE_RULES,
    ProcessCatalog,
    ProcessRoute,
    ProcessStep,
    RouteConfigError,
    TypeRule,
    catalog_from_rows,
)

CANONICAL = {
    *("基辊加工", "动平衡", "退铬退铜", "镀镍", "镀铜", "磨铜抛光", "雕刻", "打样"),
    *("镀铬", "喷砂", "热喷涂", "陶瓷磨削", "抛光", "检验", "包装发货"),
}


@pytest.mark.parametrize(
    ("product_type", "expected"),
    [
        ("gravure", "gravure"),
        ("Anilox", "anilox"),
        (" chrome ", "chrome"),
        ("ｒｅｐａｉｒ", "repair"),
        ("凹版", "gravure"),
        ("网纹", "anilox"),
        ("镀铬", "chrome"),
        ("修复", "repair"),
        ("陶瓷网纹辊", "anilox"),
    ],
)
def test_a_configured_product_type_decides_even_against_the_name(product_type: str, expected: str) -> None:
    fields = {"product_type": product_type, "product_name": "凹版印刷辊"}
    assert DEFAULT_CATALOG.route_for(fields).product_type == expected


@pytest.mark.parametrize(
    ("product_name", "expected"),
    [
        ("凹版印刷辊", "gravure"),
        ("电雕版辊", "gravure"),
        ("陶瓷网纹辊", "anilox"),
        ("网纹辊 800LPI", "anilox"),
        ("镀铬辊", "chrome"),
        ("镜面辊", "chrome"),
        ("导辊", "chrome"),
        ("网纹辊修复", "repair"),
        ("凹版辊重镀铬", "repair"),
        ("something else", "gravure"),
        (None, "gravure"),
    ],
)
def test_without_a_product_type_the_first_name_rule_wins_else_the_default(
    product_name: str | None, expected: str
) -> None:
    fields = {"product_type": None, "product_name": product_name}
    assert DEFAULT_CATALOG.route_for(fields).product_type == expected


def test_an_unknown_product_type_falls_back_to_the_name() -> None:
    fields = {"product_type": "ceramic-gravure", "product_name": "镀铬辊"}
    assert DEFAULT_CATALOG.resolve_type("ceramic-gravure") is None
    assert DEFAULT_CATALOG.route_for(fields).product_type == "chrome"


def test_default_routes_use_only_the_canonical_columns() -> None:
    assert {name for _, _, name, _ in DEFAULT_ROUTES} <= CANONICAL
    assert DEFAULT_CATALOG.process_names == CANONICAL
    assert set(DEFAULT_CATALOG.routes) == {"gravure", "anilox", "chrome", "repair"}


def test_weights_are_the_midpoints_of_the_domain_hours() -> None:
    gravure = {s.name: s.weight for s in DEFAULT_CATALOG.routes["gravure"].steps}
    anilox = {s.name: s.weight for s in DEFAULT_CATALOG.routes["anilox"].steps}
    assert gravure["基辊加工"] == Decimal(6)
    assert gravure["磨铜抛光"] == Decimal("2.25")
    assert anilox["基辊加工"] == Decimal(11)
    assert anilox["热喷涂"] == Decimal(7)


def test_the_seed_rows_processes_are_in_order_on_the_gravure_route() -> None:
    names = DEFAULT_CATALOG.routes["gravure"].step_names
    assert names.index("基辊加工") < names.index("热喷涂") < names.index("陶瓷磨削")


def test_catalog_from_rows_sorts_steps_and_a_new_process_needs_no_code() -> None:
    rows: list[tuple[str, int, str, Decimal | int | str]] = [
        ("Foil", 30, "烫金", Decimal("2")),
        ("foil", 10, "基辊加工", 5),
        ("foil", 20, " 激光\u3000清洗 ", "0.5"),
    ]
    catalog = catalog_from_rows(rows, [TypeRule("烫金", "FOIL")], "foil", {})
    route = catalog.route_for({"product_name": "烫金辊"})
    assert route.step_names == ("基辊加工", "激光 清洗", "烫金")
    assert route.steps[1].weight == Decimal("0.5")
    assert "烫金" in catalog.process_names


@pytest.mark.parametrize(
    "rows",
    [
        [("x", 10, "a", 1), ("x", 10, "b", 1)],
        [("x", 10, "a", 1), ("x", 20, "a", 1)],
        [("x", 10, "a", 0)],
        [("x", 10, "a", -1)],
        [("x", 10, "", 1)],
    ],
)
def test_bad_route_rows_are_refused(rows: list[tuple[str, int, str, int]]) -> None:
    with pytest.raises(RouteConfigError):
        catalog_from_rows(rows, [], "x", {})


def test_rules_defaults_and_aliases_must_name_existing_routes() -> None:
    route = ProcessRoute("x", (ProcessStep("a", 10, Decimal(1)),))
    with pytest.raises(RouteConfigError):
        ProcessCatalog({"x": route}, (), "missing", {})
    with pytest.raises(RouteConfigError):
        ProcessCatalog({"x": route}, (TypeRule("a", "missing"),), "x", {})
    with pytest.raises(RouteConfigError):
        ProcessCatalog({"x": route}, DEFAULT_TYPE_RULES, "x", DEFAULT_TYPE_ALIASES)


def test_the_catalogs_routes_cannot_be_changed_afterwards() -> None:
    with pytest.raises(TypeError):
        DEFAULT_CATALOG.routes["gravure"] = DEFAULT_CATALOG.routes["chrome"]  # type: ignore[index]
