"""Excel workbooks: read with python-calamine (also .xls), written with XlsxWriter.

Reading checks the workbook against :class:`.limits.ReadLimits` before calamine opens
it and each sheet before calamine reads it, then takes the first sheet that has a header
row (see :mod:`.table` for the columns). Numbers come back as text the way they were
typed: 2.0 becomes "2", 1.5 stays "1.5". A value merged across several rows (e.g. one
题型 cell for a block of questions) applies to each of those rows.

Writing puts one question per row under Chinese headers. Text that starts with
= + - @ is written as a text cell with Excel's quote prefix, so Excel never evaluates
it, even after the cell is edited, and the text itself is unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

import python_calamine
import xlsxwriter

from question_bank.formats import table
from question_bank.formats.base import Codec, ImportIssue, ImportResult
from question_bank.formats.limits import (
    DAMAGED,
    DEFAULT_LIMITS,
    FileRefusedError,
    ReadLimits,
    check_cells,
    check_grid,
    check_workbook,
)
from question_bank.types import Question

FORMULA_TRIGGERS = ("=", "+", "-", "@")
MAX_CELL_CHARS = 32767
_POINTS_COLUMN = table.EXPORT_HEADERS.index("分值")
_COLUMN_WIDTHS = {"题型": 8, "题干": 50, "答案": 12, "解析": 40, "分类": 20, "出处": 30}


def load(
    data: bytes,
    default_category: tuple[str, ...],
    limits: ReadLimits = DEFAULT_LIMITS,
    type_codes: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read questions from an .xlsx (or .xls) file, checked against ``limits`` first."""
    try:
        check = check_workbook(data, limits)
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in _visible_sheets(workbook):
            if check is not None:
                check.check_sheet(name)
            result = table.read_rows(
                _text_rows(workbook.get_sheet_by_name(name), limits), default_category, type_codes
            )
            if result is not None:
                return result
    except FileRefusedError as exc:
        if exc.reason not in DAMAGED:
            raise
        return ImportResult(errors=[ImportIssue(None, str(exc))])
    except python_calamine.CalamineError as exc:
        message = f"无法读取Excel文件（{exc}）：请确认文件未加密、未损坏，并另存为.xlsx后重试"
        return ImportResult(errors=[ImportIssue(None, message)])
    return ImportResult(errors=[table.NO_HEADER])


def _visible_sheets(workbook: python_calamine.CalamineWorkbook) -> list[str]:
    return [
        sheet.name
        for sheet in workbook.sheets_metadata
        if sheet.typ == python_calamine.SheetTypeEnum.WorkSheet
        and sheet.visible == python_calamine.SheetVisibleEnum.Visible
    ]


def _text_rows(sheet: python_calamine.CalamineSheet, limits: ReadLimits) -> list[list[str]]:
    """The sheet as text from A1, refused if its grid (checked again for an .xls, whose
    insides were not scanned) or a cell is beyond ``limits``."""
    if sheet.height:
        check_grid(sheet.end[0] + 1, sheet.end[1] + 1, limits)
    rows = [[_cell_text(value) for value in row] for row in sheet.to_python(skip_empty_area=False)]
    check_cells(rows, limits)
    for (top, left), (bottom, _) in sheet.merged_cell_ranges or ():
        for row in rows[top + 1 : bottom + 1]:
            if left < len(row) and not row[left]:
                row[left] = rows[top][left]
    return rows


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def dump(questions: Sequence[Question]) -> bytes:
    """Write ``questions`` as a one-sheet workbook."""
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        write_sheet(workbook, "题库", questions)
    return buffer.getvalue()


def write_sheet(workbook: xlsxwriter.Workbook, name: str, questions: Sequence[Question]) -> None:
    """Add a sheet of ``questions`` under ``EXPORT_HEADERS`` to ``workbook``."""
    sheet = workbook.add_worksheet(name)
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    quoted = workbook.add_format({"quote_prefix": True})
    sheet.write_row(0, 0, table.EXPORT_HEADERS, header)
    for column, title in enumerate(table.EXPORT_HEADERS):
        sheet.set_column(column, column, _COLUMN_WIDTHS.get(title, 10))
    sheet.freeze_panes(1, 0)
    for row, question in enumerate(questions, start=1):
        for column, text in enumerate(table.question_row(question)):
            if text:
                sheet.write_string(
                    row, column, text, quoted if text[0] in FORMULA_TRIGGERS else None
                )
        sheet.write_number(row, _POINTS_COLUMN, float(question.points))


def export_problem(question: Question) -> str | None:
    """Why ``question`` cannot be written to a workbook unchanged, or None."""
    if any(len(text) > MAX_CELL_CHARS for text in table.question_row(question)):
        return f"有内容超过Excel单元格上限（{MAX_CELL_CHARS}字）"
    return table.export_problem(question)


def looks_like(data: bytes) -> bool:
    """A zip (xlsx) or OLE2 (xls) container."""
    return data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))


CODEC = Codec("xlsx", (".xlsx", ".xlsm", ".xls"), looks_like, load, dump, export_problem)
