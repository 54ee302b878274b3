"""Reading uploaded spreadsheets: .xlsx/.xls through calamine (about ten times faster than
openpyxl, PERFORMANCE.md trap 4) and .csv in UTF-8, UTF-8 with BOM or GBK/GB18030.

Both importers read through the same guard, question_bank's ``formats.limits``: a
workbook is checked (zip sizes and ratios, the sheet's real grid) before calamine builds
anything, so no upload can make a worker allocate gigabytes; ``ReadLimits`` say how much.

Every cell comes back as stripped text: Excel hands over 工号 and phone numbers as floats
("13800138000.0"), which would otherwise be read wrongly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from python_calamine import CalamineWorkbook

from question_bank.formats.limits import (
    DEFAULT_LIMITS,
    XLS_MAGIC,
    XLSX_MAGIC,
    FileRefusedError,
    ReadLimits,
    check_cells,
    check_grid,
    check_workbook,
    read_limited,
)
from question_bank.normalize import clean_header
from studyhall import figures
from studyhall.i18n import lazy_gettext as _l


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; the message says why and what to do.
    ``reason`` is set when a limit refused it (see ``formats.limits``): "rows", "cells"…"""

    def __init__(self, message, reason: str | None = None):
        super().__init__(message)
        self.reason = reason


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) if it decodes strictly, else GB18030 (a superset of
    GBK). Never guesses into mojibake: a file neither can decode is refused."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise SpreadsheetError(_l("The file is not text in UTF-8 or GBK. Save it from Excel as "
                              "\"CSV UTF-8\" or as .xlsx and upload it again."))


def read_rows(data: bytes, filename: str, limits: ReadLimits = DEFAULT_LIMITS
              ) -> list[list[str]]:
    """All rows of the first sheet (or the CSV) as lists of text, blank rows kept so that
    row numbers match what the person sees in Excel (row 1 is the first row).

    The file is held to ``limits`` before anything big is built: a workbook's zip parts
    and its sheet's grid are checked before calamine reads them (question_bank's
    ``formats.limits``), a CSV's rows and cells as they are read.
    """
    if not data:
        raise SpreadsheetError(_l("The file is empty."))
    name = filename.lower()
    try:
        if data.startswith((XLSX_MAGIC, XLS_MAGIC)):
            return _read_workbook(data, limits)
        if name.endswith((".xlsx", ".xls", ".xlsm")):
            raise SpreadsheetError(_l("The file is named like an Excel workbook but is not "
                                      "one. Open it in Excel, save it as .xlsx and try again."))
        if not name.endswith((".csv", ".txt")):
            raise SpreadsheetError(_l("Only .xlsx, .xls and .csv files can be imported."))
        text = decode_text(data)
        dialect = csv.excel_tab if text.count("\t") > text.count(",") else csv.excel
        try:
            return read_limited(csv.reader(io.StringIO(text), dialect), limits)
        except csv.Error as exc:
            raise SpreadsheetError(_l("The CSV file could not be read (%(error)s). Save it "
                                      "again from Excel as \"CSV UTF-8\".", error=str(exc))
                                   ) from exc
    except FileRefusedError as exc:
        raise SpreadsheetError(refusal_message(exc, limits), reason=exc.reason) from exc


def _read_workbook(data: bytes, limits: ReadLimits) -> list[list[str]]:
    check = check_workbook(data, limits)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if check is not None:
            check.check_sheet(index=0)
        sheet = workbook.get_sheet_by_index(0)
        if sheet.height:  # an .xls is only checked once read
            check_grid(sheet.end[0] + 1, sheet.end[1] + 1, limits)
        rows = sheet.to_python(skip_empty_area=False)
    except FileRefusedError:
        raise
    except Exception as exc:  # calamine raises several types for a damaged file
        raise SpreadsheetError(_l("The workbook could not be read; it may be damaged or "
                                  "password-protected. Save it again as .xlsx.")) from exc
    texts = [[cell_text(value) for value in row] for row in rows]
    check_cells(texts, limits)
    return texts


def refusal_message(exc: FileRefusedError, limits: ReadLimits) -> str:
    """What was wrong with the file and the limit, in the reader's language."""
    found = exc.details

    def number(value: int) -> str:  # 20000 → "20,000" in the reader's locale
        return figures.score(value, 0)

    megabytes = 1024 * 1024
    messages = {
        "damaged": lambda: _("The workbook could not be read; it may be damaged or "
                             "password-protected. Save it again as .xlsx."),
        "encrypted": lambda: _("The workbook is password-protected or packed in an unusual "
                               "way. Remove the password and save it again as .xlsx."),
        "not_xlsx": lambda: _("The file is a zip archive but not an Excel workbook. Open it in "
                              "Excel, save it as .xlsx and upload it again."),
        "parts": lambda: _("The workbook has %(count)s parts; at most %(limit)s are accepted. "
                           "Keep only the sheet to import and save it as .xlsx.",
                           count=number(found["count"]), limit=number(limits.max_parts)),
        "unpacked": lambda: _("The workbook unpacks to more than %(limit)s MB, the limit; it "
                              "may hold a great deal of blank or hidden content. Keep only the "
                              "data to import and save it as .xlsx.",
                              limit=number(limits.max_unpacked_bytes // megabytes)),
        "ratio": lambda: _("Part %(part)s of the workbook is compressed more than %(limit)s "
                           "times (ordinary files stay far below that), as files built to "
                           "crash a server are. Keep only the data to import and save it as "
                           ".xlsx.", part=found["part"], limit=number(limits.max_ratio)),
        "rows": lambda: _("The file has %(rows)s rows; at most %(limit)s can be imported "
                          "here.", rows=found["rows"], limit=number(limits.max_rows)),
        "columns": lambda: _("The sheet uses columns up to %(name)s (%(count)s columns); at "
                             "most %(limit)s are accepted. Delete the unused columns on the "
                             "right.", name=found["column_name"],
                             count=number(found["columns"]), limit=number(limits.max_columns)),
        "cells": lambda: _("The sheet spans %(cells)s cells from A1 to %(last)s; at most "
                           "%(limit)s are accepted. Delete unused rows and columns, and "
                           "anything far from the table.", cells=number(found["cells"]),
                           last=found["last"], limit=number(limits.max_cells)),
        "cell_chars": lambda: _("The cell in row %(row)s, column %(column)s holds %(chars)s "
                                "characters; at most %(limit)s are accepted.",
                                row=number(found["row"]), column=found["column"],
                                chars=number(found["chars"]), limit=number(limits.max_cell_chars)),
        "xls_bytes": lambda: _("An old-format Excel file (.xls) may be at most %(limit)s MB. "
                               "Save it as .xlsx and upload it again.",
                               limit=number(limits.max_xls_bytes // megabytes)),
    }
    return messages[exc.reason]() if exc.reason in messages else str(exc)


def find_header(rows: list[list[str]], columns: dict[str, tuple[str, ...]],
                required: tuple[str, ...], search_rows: int = 10) -> Header | None:
    """Find the header row among the first ``search_rows`` rows (a title row may stand
    above it). ``columns`` maps a field to the header names it goes by (already passed
    through ``clean_header``), in order of preference. Returns the first row that names
    every required field, or None.

    Header cells are compared by ``clean_header``, the rule the question importer uses
    too: ``姓名(必填)``, ``*工号``, ``【必填】单位`` and a line break in a cell are the bare
    names."""
    for index, row in enumerate(rows[:search_rows]):
        header = read_header(index, row, columns)
        if all(field in header.columns for field in required):
            return header
    return None


@dataclass
class Header:
    """A header row read: ``columns`` maps each field found to every column that names
    it, the most preferred name first (then left to right); ``ignored`` are the other
    non-empty header cells."""

    index: int
    columns: dict[str, list[int]]
    cells: list[str]
    ignored: list[str]

    def first(self, field: str) -> int | None:
        found = self.columns.get(field)
        return found[0] if found else None


def read_header(index: int, row: list[str], columns: dict[str, tuple[str, ...]]) -> Header:
    """Read row ``index`` as a header, whether or not it names the required fields."""
    found: dict[str, list[tuple[int, int]]] = {}
    ignored = []
    for col, cell in enumerate(row):
        key = clean_header(cell)
        fields = [(field, names.index(key)) for field, names in columns.items() if key in names]
        for field, rank in fields:
            found.setdefault(field, []).append((rank, col))
        if key and not fields:
            ignored.append(" ".join(cell.split()))
    return Header(index, {field: [col for _, col in sorted(places)]
                          for field, places in found.items()}, list(row), ignored)


def missing_header_report(rows: list[list[str]], columns: dict[str, tuple[str, ...]],
                          required: tuple[str, ...], search_rows: int = 10
                          ) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """What was read instead of a header: the non-empty cells of the first rows (row
    number, cells), and the required fields missing from the row that came closest."""
    shown = [(number, [" ".join(c.split()) for c in row if c.strip()])
             for number, row in enumerate(rows[:search_rows], start=1)]
    shown = [(number, cells) for number, cells in shown if cells][:5]
    best: list[str] = list(required)
    for index, row in enumerate(rows[:search_rows]):
        header = read_header(index, row, columns)
        missing = [field for field in required if field not in header.columns]
        if len(missing) < len(best):
            best = missing
    return shown, best
