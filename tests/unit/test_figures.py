"""Report figures are rounded 四舍五入 on the exact value and written in the reader's
language (studyhall/figures.py)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import example, given
from hypothesis import strategies as st

from studyhall import figures


@pytest.fixture(params=["zh_CN", "en"])
def locale(request):
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: request.param)
    with app.test_request_context():
        yield request.param


@pytest.mark.parametrize(("part", "whole", "shown"), [
    (1, 16, "6.3%"),     # 6.25: float and half-even both give 6.2%
    (3, 16, "18.8%"),    # 18.75
    (1, 3, "33.3%"),
    (2, 3, "66.7%"),
    (1, 8, "12.5%"),
    (16, 16, "100.0%"),
    (0, 16, "0.0%"),
    (0, 0, "—"),
    (5, 0, "—"),
])
def test_rates_round_half_up_from_their_counts(locale, part, whole, shown):
    assert figures.rate(part, whole) == shown


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("2.525"), "2.53"),   # float(2.525) is 2.52499…, half-even gives 2.52
    ("0.125", "0.13"),
    (Decimal("0.135"), "0.14"),
    (Fraction(1, 3), "0.33"),
    (Fraction(2, 3), "0.67"),
    (Decimal("-2.525"), "-2.53"),
    (Decimal("12345.5"), "12,345.50"),
    (None, "—"),
])
def test_scores_round_half_up(locale, value, shown):
    assert figures.score(value) == shown


@pytest.mark.parametrize(("total", "count", "shown"), [
    (Decimal("205"), 3, "68.33"),
    (Decimal("105.05"), 2, "52.53"),   # 52.525
    (1, 8, "0.13"),                    # 0.125
    (1, 3, "0.33"),
    (Decimal("10"), 0, "—"),
])
def test_averages_divide_exactly_then_round_half_up(locale, total, count, shown):
    assert figures.average(total, count) == shown


def test_places_are_chosen_by_the_caller(locale):
    assert figures.rate(1, 16, 0) == "6%" and figures.rate(1, 2, 0) == "50%"
    assert figures.rate(1, 16, 2) == "6.25%"
    assert figures.average(Decimal("92.55"), 1, 1) == "92.6"


def test_exports_get_rounded_numbers():
    assert figures.rate_value(1, 16) == Decimal("6.3")
    assert figures.average_value(Decimal("205"), 3) == Decimal("68.33")
    assert figures.rate_value(1, 0) is None and figures.average_value(1, 0) is None
    assert figures.round_half_up(Decimal("2.5"), 0) == 3
    assert figures.round_half_up(Decimal("-0.5"), 0) == -1


def test_floats_are_refused():
    """A float has been rounded already: 2.525 as a float is below the tie."""
    with pytest.raises(TypeError):
        figures.score(2.525)
    with pytest.raises(TypeError):
        figures.rate(0.5, 1)


def test_no_figure_is_rounded_or_formatted_outside_the_figures_module():
    """Pages and exports go through studyhall/figures.py: no float formatting, round() or
    Babel number formatting of their own."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    forbidden = re.compile(r"\|\s*round\b|%[0-9]*\.\d+f|:[,_]?\.\d+[f%]\}|\bround\(|"
                           r"\bformat_(decimal|percent|number|scientific)\b")
    files = [*root.joinpath("templates").rglob("*.html"), *root.joinpath("studyhall").rglob("*.py")]
    found = [f"{path.relative_to(root)}:{n}: {line.strip()}"
             for path in files if path.name != "figures.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if forbidden.search(line)]
    assert not found, "\n".join(found)


def _reference(value: Fraction, places: int) -> Decimal:
    """Half up on the exact fraction, by Decimal's own ROUND_HALF_UP at ample precision."""
    from decimal import ROUND_HALF_UP, localcontext

    with localcontext() as context:
        context.prec = 200
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


_numbers = st.one_of(st.integers(-10**9, 10**9),
                     st.decimals(-10**6, 10**6, places=2, allow_nan=False, allow_infinity=False),
                     st.fractions(max_denominator=10**4).filter(lambda f: abs(f) < 10**6))


@given(part=_numbers, whole=_numbers, places=st.integers(0, 4))
@example(part=1, whole=16, places=1).via("a tie: 6.25%")
@example(part=-1, whole=16, places=1).via("a negative tie")
@example(part=Decimal("105.05"), whole=-2, places=2).via("a tie over a negative count")
def test_rates_and_averages_are_the_exact_ratio_rounded_half_up(part, whole, places):
    """The integer path that rates and averages take (ints and Decimals) gives what
    rounding the exact fraction gives, signs and ties included."""
    if whole == 0:
        assert figures.rate_value(part, whole, places) is None
        assert figures.average_value(part, whole, places) is None
        return
    ratio = Fraction(part) / Fraction(whole)
    assert figures.rate_value(part, whole, places) == _reference(ratio * 100, places)
    assert figures.average_value(part, whole, places) == _reference(ratio, places)
    assert figures.round_half_up(ratio, places) == _reference(ratio, places)


@given(units=st.integers(-10**6, 10**6), count=st.integers(1, 10**4), places=st.integers(0, 3))
def test_ties_round_away_from_zero(units, count, places):
    """An average exactly halfway between two shown values goes away from zero."""
    half = Fraction(2 * units + 1, 2 * 10 ** places)
    total = Decimal((half * count).numerator) / Decimal((half * count).denominator)
    assert figures.average_value(total, count, places) == _reference(half, places)
