"""Figures people copy into work reports: rates and averages, rounded 四舍五入 (half up)
on the exact value, never through float, and written in the reader's language.

DOMAIN.md's rule: 1/16 is 6.3%, 2.525 is 2.53; rates to one decimal place, averages to
two. A rate is computed from its integer numerator and denominator, an average from its
exact total and count, so nothing is lost before the one rounding. Pages use the Jinja
filters registered below; exports use the ``*_value`` functions and write numbers.

    {{ figures.took|rate(figures.expected) }}      6.3%   (— when the denominator is 0)
    {{ figures.total|average(figures.took) }}      68.33
    {{ value|score }}                              2.53   (a single exact value)
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from numbers import Rational

from flask import Flask
from flask_babel import format_decimal, format_percent

#: Shown for a figure with nothing to compute it from (0 expected, nobody took part).
MISSING = "—"
RATE_PLACES = 1
AVERAGE_PLACES = 2


def exact(value) -> Fraction:
    """An int, Decimal, Fraction or decimal string as an exact fraction. Floats are
    refused: they are already rounded (0.125 is exact, 2.525 is not)."""
    if isinstance(value, float):
        raise TypeError("figures are computed from exact values, not floats")
    if isinstance(value, Rational | Decimal):
        return Fraction(value)
    return Fraction(Decimal(str(value)))


def round_half_up(value, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, halves away from zero, exactly."""
    fraction = exact(value)
    return _round_ratio(fraction.numerator, fraction.denominator, places)


def _round_ratio(numerator: int, denominator: int, places: int) -> Decimal:
    """``numerator / denominator`` (denominator > 0) rounded as :func:`round_half_up`
    rounds it, in integers: a roll-up rounds tens of thousands of figures, and Fraction
    arithmetic is several times slower for the same exact result."""
    units, rest = divmod(abs(numerator) * 10 ** places, denominator)
    if 2 * rest >= denominator:
        units += 1
    result = Decimal(units).scaleb(-places)
    return -result if numerator < 0 else result


def _ratio(value) -> tuple[int, int]:
    """An int or a finite Decimal as (numerator, denominator > 0), exactly; anything
    else through :func:`exact`."""
    if type(value) is int or (type(value) is Decimal and value.is_finite()):
        return value.as_integer_ratio()
    fraction = exact(value)
    return fraction.numerator, fraction.denominator


def rate_value(part, whole, places: int = RATE_PLACES) -> Decimal | None:
    """``part`` of ``whole`` in percent, rounded: (1, 16) → Decimal("6.3"); None for 0/0."""
    if not whole:
        return None
    (p, q), (r, s) = _ratio(part), _ratio(whole)  # (p/q) · 100 / (r/s)
    numerator, denominator = p * s * 100, q * r
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return _round_ratio(numerator, denominator, places)


def average_value(total, count, places: int = AVERAGE_PLACES) -> Decimal | None:
    """``total`` / ``count`` rounded: (205, 3) → Decimal("68.33"); None when count is 0."""
    if not count:
        return None
    (p, q), (r, s) = _ratio(total), _ratio(count)
    numerator, denominator = p * s, q * r
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return _round_ratio(numerator, denominator, places)


def _pattern(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places else "")


def _number(value: Decimal, places: int) -> str:
    # Already rounded to ``places``: the pattern only writes it (Babel itself would round
    # half-even), with the locale's digits, separators and signs.
    return format_decimal(value, _pattern(places))


def rate(part, whole, places: int = RATE_PLACES) -> str:
    """"6.3%" for (1, 16); "—" for a denominator of 0."""
    value = rate_value(part, whole, places)
    if value is None:
        return MISSING
    return format_percent(value / 100, _pattern(places) + "%")


def average(total, count, places: int = AVERAGE_PLACES) -> str:
    """"68.33" for (205, 3); "—" when nobody is counted."""
    value = average_value(total, count, places)
    return MISSING if value is None else _number(value, places)


def score(value, places: int = AVERAGE_PLACES) -> str:
    """One exact value (a Decimal score, a mean computed elsewhere) rounded half up:
    2.525 → "2.53"; "—" for None."""
    return MISSING if value is None else _number(round_half_up(value, places), places)


def register(app: Flask) -> None:
    app.add_template_filter(rate)
    app.add_template_filter(average)
    app.add_template_filter(score)
