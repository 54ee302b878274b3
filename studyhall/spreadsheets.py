"""Reading uploaded spreadsheets: .xlsx/.xls through calamine (about ten times faster than
openpyxl, PERFORMANCE.md trap 4) and .csv in UTF-8, UTF-8 with BOM or GBK/GB18030.

Every cell comes back as stripped text: Excel hands over 工号 and phone numbers as floats
("13800138000.0"), which would otherwise be read wrongly.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from python_calamine import CalamineWorkbook

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class SpreadsheetError(ValueError):
    """The file cannot be read as a table; the message says why and what to do."""


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


def read_rows(data: bytes, filename: str) -> list[list[str]]:
    """All rows of the first sheet (or the CSV) as lists of text, blank rows kept so that
    row numbers match what the person sees in Excel (row 1 is the first row)."""
    if not data:
        raise SpreadsheetError(_l("The file is empty."))
    name = filename.lower()
    if data.startswith((XLSX_MAGIC, XLS_MAGIC)):
        return _read_workbook(data)
    if name.endswith((".xlsx", ".xls", ".xlsm")):
        raise SpreadsheetError(_l("The file is named like an Excel workbook but is not one. "
                                  "Open it in Excel, save it as .xlsx and try again."))
    if not name.endswith((".csv", ".txt")):
        raise SpreadsheetError(_l("Only .xlsx, .xls and .csv files can be imported."))
    text = decode_text(data)
    dialect = csv.excel_tab if text.count("\t") > text.count(",") else csv.excel
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]


def _read_workbook(data: bytes) -> list[list[str]]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several types for a damaged file
        raise SpreadsheetError(_l("The workbook could not be read; it may be damaged or "
                                  "password-protected. Save it again as .xlsx.")) from exc
    return [[cell_text(value) for value in row] for row in rows]


def normalise_header(text: str) -> str:
    """Header cells compared without spaces, required-field stars or a trailing colon."""
    return "".join(text.split()).strip("*＊:：").lower()


def find_header(rows: list[list[str]], columns: dict[str, tuple[str, ...]],
                required: tuple[str, ...], search_rows: int = 10
                ) -> tuple[int, dict[str, int]] | None:
    """Find the header row among the first ``search_rows`` rows (a title row may stand
    above it). ``columns`` maps a field to the header names it goes by. Returns the
    header's index and field → column index, or None if no row names every required field.
    """
    for index, row in enumerate(rows[:search_rows]):
        positions: dict[str, int] = {}
        for col, cell in enumerate(row):
            key = normalise_header(cell)
            for field, names in columns.items():
                if field not in positions and key in names:
                    positions[field] = col
        if all(field in positions for field in required):
            return index, positions
    return None
