"""Ids in URLs and query strings: a number no database row can have is simply not found.

SQLite refuses a bind beyond signed 64-bit ("Python int too large to convert to SQLite
INTEGER") and PostgreSQL one beyond its INTEGER column type, 32-bit ("integer out of
range"); either used to surface as a 500 for a URL such as ``/attempts/99999999999999999999``.
Every id column is INTEGER, so no row has an id above 2^31 - 1. The app's ``int``
converter (registered in ``create_app`` before any route) stops there, so such a URL
matches no route and answers 404 like any other missing page; ``id_arg`` does the same
for ids read from a query string or a form.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: The largest id a row can have: id columns are INTEGER, 32-bit on PostgreSQL.
MAX_ID = 2**31 - 1


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..``limit`` without leading zeros:
    0, every shorter number, then for each leading digit of ``limit`` the numbers that
    share the digits before it and are smaller at it, then ``limit`` itself."""
    digits = str(limit)
    parts = ["0"]
    if len(digits) > 1:
        parts.append(rf"[1-9]\d{{0,{len(digits) - 2}}}")
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            parts.append(rf"{digits[:i]}[{low}-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """``<int:x>`` with an upper bound: beyond it the URL does not match (404).

    The bound is in the regular expression itself, not only in ``to_python``: Werkzeug
    compares the method before it converts, so with a GET rule and a POST rule on one path
    a bound checked only on conversion answered a POST beyond it with 405, not 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        limit = MAX_ID if max is None else max
        super().__init__(map, fixed_digits, min, limit, signed)
        if not fixed_digits and not signed:
            self.regex = _at_most(limit)


def id_arg(text) -> int:
    """``type=`` for ``request.args.get``/``request.form.get``: a positive id in range,
    else ValueError (so ``get`` returns its default)."""
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise ValueError(text)
    return value
