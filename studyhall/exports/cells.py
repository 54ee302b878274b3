"""The formula-injection guard for every text cell an export writes.

A spreadsheet program treats a cell that begins with = + - @ (or their full-width forms,
which some input methods type and some programs fold to ASCII), a tab or a carriage
return as the start of a formula or a field break. Names, topics and reasons typed by
users are written through :func:`guard`, which puts an apostrophe in front of such text
(OWASP's advice, as indico's CSV export does): the cell stays text wherever the file is
opened, converted or pasted, and the reader sees what was typed.
"""

from __future__ import annotations

#: Characters that must not begin a text cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\t", "\r")


def guard(value: str | None) -> str:
    """``value`` as safe cell text: "=1+1" → "'=1+1"; None → ""."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
