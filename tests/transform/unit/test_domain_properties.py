from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from transform.domain.normalize import normalize_text
from transform.domain.progress import compute_progress
from transform.domain.routes import DEFAULT_CATALOG, ProcessRoute, ProcessStep
from transform.domain.status import ProcessStatus

ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
STATUS = st.one_of(st.none(), st.sampled_from(ProcessStatus))
NAMES = st.sampled_from(["基辊加工", "热喷涂", "陶瓷磨削", "雕刻", "检验", "新工序", "另一工序"])


def full_width(text: str) -> str:
    """The full-width twin of printable ASCII: what a Chinese IME types."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


@st.composite
def routes(draw: st.DrawFn) -> ProcessRoute:
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    weights = draw(st.lists(st.decimals("0.01", "24", places=2), min_size=len(names), max_size=len(names)))
    steps = tuple(ProcessStep(n, 10 * i, w) for i, (n, w) in enumerate(zip(names, weights, strict=True), 1))
    return ProcessRoute("generated", steps)


@given(st.one_of(st.text(), st.integers(), st.floats(), st.none()))
def test_normalize_text_is_idempotent(value: object) -> None:
    once = normalize_text(value)
    assert normalize_text(once) == once


@given(st.text())
def test_normalized_text_has_no_outer_or_repeated_whitespace(value: str) -> None:
    result = normalize_text(value)
    assert result is None or (result == result.strip() and "  " not in result)


@given(routes(), st.dictionaries(NAMES, STATUS))
def test_progress_stays_between_0_and_100(
    route: ProcessRoute, statuses: dict[str, ProcessStatus | None]
) -> None:
    result = compute_progress(route, statuses)
    assert Decimal(0) <= result.percentage <= Decimal(100)
    assert result.finished == (result.current_process is None)
    assert result.finished == (result.percentage == Decimal(100))


@given(routes(), st.dictionaries(NAMES, STATUS), NAMES)
def test_finishing_any_single_step_never_lowers_progress(
    route: ProcessRoute, statuses: dict[str, ProcessStatus | None], name: str
) -> None:
    before = compute_progress(route, statuses)
    after = compute_progress(route, {**statuses, name: ProcessStatus.DONE})
    assert after.percentage >= before.percentage


@given(st.sampled_from(sorted(DEFAULT_CATALOG.routes)), st.data())
def test_default_routes_are_monotonic_too(product_type: str, data: st.DataObject) -> None:
    route = DEFAULT_CATALOG.routes[product_type]
    statuses = data.draw(st.dictionaries(st.sampled_from(route.step_names), STATUS))
    name = data.draw(st.sampled_from(route.step_names))
    before = compute_progress(route, statuses).percentage
    assert compute_progress(route, {**statuses, name: ProcessStatus.DONE}).percentage >= before
