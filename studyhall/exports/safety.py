"""The one formula-injection guard for every exported text cell.

A spreadsheet program reads a cell that begins with = + - @ (or the full-width ＝ ＋ － ＠
that some input methods type and some programs fold to ASCII), a tab or a carriage
return as the start of a formula or a field break. Names, unit names and answers typed
by users reach our sheets, so every text cell goes through here:

- CSV has no cell types: such text gets an apostrophe in front (OWASP's advice), which
  spreadsheet programs hide and read as "this is text".
- .xlsx keeps the text exactly as typed in a string cell and marks the cell
  ``quotePrefix`` (what Excel itself does when a person types the apostrophe): it is
  never evaluated, not even after the cell is edited, and the file reads back unchanged
  (a roster exported this way imports back without a stray apostrophe).
"""

from __future__ import annotations

#: What must not begin a text cell unguarded.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\t", "\r")


def is_risky(text: str) -> bool:
    """Whether a spreadsheet program could take ``text`` for a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_text(value) -> str:
    """``value`` as a safe CSV field: "=1+1" → "'=1+1"; None → ""."""
    text = "" if value is None else str(value)
    return "'" + text if is_risky(text) else text


def write_text(sheet, row: int, col: int, value, fmt=None, guarded_fmt=None) -> None:
    """Write ``value`` as a string cell of an XlsxWriter sheet; risky text gets
    ``guarded_fmt`` (a format with ``quote_prefix``), other text ``fmt``."""
    text = "" if value is None else str(value)
    if is_risky(text):
        sheet.write_string(row, col, text, guarded_fmt)
    elif fmt is None:
        sheet.write_string(row, col, text)
    else:
        sheet.write_string(row, col, text, fmt)


def text_writer(sheet, fmt=None, guarded_fmt=None):
    """:func:`write_text` for a column of many cells: ``write(row, col, value)`` with the
    sheet's method and the formats bound once (a city's score sheet has half a million
    text cells). The same cells as :func:`write_text`: every value is tested as
    :func:`is_risky` tests it. It calls XlsxWriter's undecorated writer (sheets.py says
    why); ``row`` and ``col`` are numbers."""
    write_string = sheet._write_string

    def write(row: int, col: int, value) -> None:
        text = value if value.__class__ is str else ("" if value is None else str(value))
        if text.startswith(FORMULA_STARTS):
            write_string(row, col, text, guarded_fmt)
        else:
            write_string(row, col, text, fmt)
    return write


def unguard(text: str) -> str:
    """Undo :func:`csv_text` on a cell read back (the roster import): "'=1+1" → "=1+1".
    An apostrophe before anything else is the person's own and stays."""
    return text[1:] if text.startswith("'") and is_risky(text[1:]) else text
