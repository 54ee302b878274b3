"""Writing tables to .xlsx and CSV row by row, the way every export here does.

.xlsx goes through XlsxWriter in constant-memory mode (rows are flushed to a temporary
file as they are written; never pandas' to_excel, which drops cells in that mode —
PERFORMANCE.md): a title line, a bold header row frozen under it, column widths fitted to
the header and the first rows, numbers stored as numbers (rates as fractions with a
percent format, scores with two decimals), dates as dates and durations as durations.
Every text cell goes through exports/safety.py. CSV is UTF-8 with a BOM (Excel opens it
as Unicode), streamed line by line, with the same values as text.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from studyhall.exports.safety import csv_text, text_writer, write_text

TEXT, INT, DECIMAL, RATE, DATETIME, DURATION = "text", "int", "decimal", "rate", "datetime", \
    "duration"
#: Rows looked at to fit the column widths before anything is written.
SAMPLE_ROWS = 500
MAX_WIDTH = 60
FORMATS = {INT: "0", DECIMAL: "0.00", RATE: "0.0%", DATETIME: "yyyy-mm-dd hh:mm",
           DURATION: "[h]:mm:ss"}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    min_width: int = 4


def display_width(value) -> int:
    """Characters as a spreadsheet shows them: CJK and full-width ones count two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(kind: str, value):
    """What a cell shows, for fitting widths."""
    if value is None:
        return ""
    if kind == DATETIME:
        return "2026-12-31 23:59"
    if kind == DURATION:
        return "0:00:00"
    if kind == RATE:
        return "100.0%"
    return value


class SheetWriter:
    """One worksheet: ``write(rows)`` fits the widths on the first rows, then writes them
    all in order (constant-memory sheets only accept rows in order)."""

    def __init__(self, workbook, name: str, columns: list[Column], *, title: str = "",
                 notes: Iterable[str] = ()):
        self.workbook, self.columns = workbook, columns
        self.sheet = workbook.add_worksheet(name)
        self.title, self.notes = title, list(notes)
        self.formats = _formats(workbook)
        self.row = 0
        # How each column's cells are written, chosen once, not per cell (a city's
        # sheet has a million of them).
        self._numbers = range(len(columns))
        self._writers = [_cell_writer(self.sheet, self.formats, column.kind)
                         for column in columns]

    def write(self, rows: Iterable[list], progress: Callable[[int], None] | None = None) -> int:
        """Write every row; returns how many. ``progress(n)`` is told every 1,000 rows."""
        rows = iter(rows)
        sample = list(islice(rows, SAMPLE_ROWS))
        self._head(sample)
        written = 0
        for values in _chain(sample, rows):
            self._write_row(values)
            written += 1
            if progress is not None and written % 1000 == 0:
                progress(1000)
        if progress is not None and written % 1000:
            progress(written % 1000)
        return written

    def _head(self, sample: list[list]) -> None:
        for col, column in enumerate(self.columns):
            width = max([display_width(column.header), column.min_width] +
                        [display_width(_shown(column.kind, r[col])) for r in sample])
            self.sheet.set_column(col, col, min(width + 2, MAX_WIDTH))
        if self.title:
            self.sheet.write_string(self.row, 0, self.title, self.formats["title"])
            self.row += 1
        for note in self.notes:
            write_text(self.sheet, self.row, 0, note, self.formats["note"],
                       self.formats["note_guarded"])
            self.row += 1
        for col, column in enumerate(self.columns):
            self.sheet.write_string(self.row, col, column.header, self.formats["header"])
        self.row += 1
        self.sheet.freeze_panes(self.row, 0)

    def _write_row(self, values: list) -> None:
        row = self.row
        for col, write, value in zip(self._numbers, self._writers, values, strict=True):
            # None and "" leave the cell empty. (The type test first: a Decimal compared
            # with "" goes through the numbers ABCs, for each of a city's 90,000 scores.)
            if value is None or (isinstance(value, str) and not value):
                continue
            write(row, col, value)
        self.row += 1


def _cell_writer(sheet, formats: dict, kind: str) -> Callable[[int, int, object], None]:
    """How a cell of ``kind`` is written: text through the formula guard (safety.py),
    rates as the fraction the percent format writes back, dates as dates, durations as
    days, other numbers as numbers in their format."""
    fmt = formats.get(kind)
    if kind == TEXT:
        return text_writer(sheet, None, formats["guarded"])
    # XlsxWriter's undecorated writers (what its own ``write()`` calls): the public ones
    # first test whether the row is "A1" notation, a cost a million cells notice (the
    # city's sheet: ~0.5 s of its ~11). Rows and columns here are always numbers.
    write_number = sheet._write_number
    if kind == RATE:
        # A rounded percent (6.3) as the fraction the cell's format writes back.
        return lambda row, col, value: write_number(row, col, float(Decimal(value) / 100), fmt)
    if kind == DATETIME:
        write_datetime = sheet._write_datetime
        return lambda row, col, value: write_datetime(row, col, value, fmt)
    if kind == DURATION:
        return lambda row, col, value: write_number(row, col, value / 86400, fmt)
    return lambda row, col, value: write_number(row, col, float(value), fmt)


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def _formats(workbook) -> dict:
    cached = getattr(workbook, "_studyhall_formats", None)
    if cached is None:
        cached = {kind: workbook.add_format({"num_format": pattern})
                  for kind, pattern in FORMATS.items()}
        cached["header"] = workbook.add_format({"bold": True, "bg_color": "#F2DCDB",
                                                "border": 1, "text_wrap": True})
        cached["title"] = workbook.add_format({"bold": True, "font_size": 13})
        cached["note"] = workbook.add_format({"font_color": "#5F6B76"})
        cached["note_guarded"] = workbook.add_format({"font_color": "#5F6B76",
                                                      "quote_prefix": True})
        cached["guarded"] = workbook.add_format({"quote_prefix": True})
        workbook._studyhall_formats = cached
    return cached


def workbook_options() -> dict:
    """XlsxWriter options of every export: rows flushed as written, not kept in memory."""
    return {"constant_memory": True, "strings_to_numbers": False,
            "strings_to_formulas": False, "strings_to_urls": False}


# --- CSV ------------------------------------------------------------------------------


def csv_value(kind: str, value) -> str:
    """A cell as CSV text: the same value the .xlsx cell holds."""
    if value is None:
        return ""
    if kind == TEXT:
        return csv_text(value)
    if kind == RATE:
        return f"{value}%"
    if kind == DATETIME:
        return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
    if kind == DURATION:
        minutes, seconds = divmod(int(value), 60)
        return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def iter_csv(columns: list[Column], rows: Iterable[list], *, title: str = "",
             notes: Iterable[str] = ()) -> Iterator[bytes]:
    """The CSV file in chunks of UTF-8 (a BOM first), for a streamed response or a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    for line in ([title] if title else []) + list(notes):
        writer.writerow([csv_text(line)])
    writer.writerow([column.header for column in columns])
    for count, values in enumerate(rows, start=1):
        writer.writerow([csv_value(c.kind, v) for c, v in zip(columns, values, strict=True)])
        if count % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
