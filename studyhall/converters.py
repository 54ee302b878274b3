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


class IdConverter(IntegerConverter):
    """``<int:x>`` with an upper bound: beyond it the URL does not match (404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def id_arg(text) -> int:
    """``type=`` for ``request.args.get``/``request.form.get``: a positive id in range,
    else ValueError (so ``get`` returns its default)."""
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise ValueError(text)
    return value
