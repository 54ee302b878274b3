"""What the sheets' cell writers (studyhall/exports/sheets.py) leave in the file. They
call XlsxWriter's undecorated ``_write_*`` methods, which are not its public API: these
tests read the file's XML back, so a release that moved the string limit or the style
out of those methods would fail here rather than write a corrupt or unguarded cell."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from decimal import Decimal

import xlsxwriter

from studyhall.exports.sheets import DATETIME, DECIMAL, Column, SheetWriter


def written(tmp_path, rows: list[list]) -> tuple[dict[str, str], str]:
    """The body cells (reference → the cell's XML) and styles.xml of a sheet of
    ``rows`` under a text, a number and a date column."""
    path = tmp_path / "cells.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    SheetWriter(book, "Sheet", [Column("文本"), Column("分", DECIMAL),
                                Column("时间", DATETIME)]).write(rows)
    book.close()
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        styles = archive.read("xl/styles.xml").decode()
    cells = dict(re.findall(r'<c r="([A-Z]+\d+)"(.*?)</c>', sheet))
    return cells, styles


def quote_prefixed_styles(styles: str) -> set[str]:
    cell_xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S).group(1)
    return {str(n) for n, xf in enumerate(re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", cell_xfs))
            if 'quotePrefix="1"' in xf}


def style_of(cell: str) -> str:
    found = re.search(r' s="(\d+)"', cell)
    return found.group(1) if found else "0"


def test_text_past_excel_s_limit_is_cut_to_32767_characters(tmp_path):
    cells, _ = written(tmp_path, [["心" * 40_000, Decimal("92.5"), None]])
    text = re.search(r"<t[^>]*>(.*?)</t>", cells["A2"]).group(1)
    assert len(text) == 32_767 and set(text) == {"心"}


def test_formula_starts_are_guarded_and_ordinary_text_is_not(tmp_path):
    risky = ["=1+1", "＝A1", "+86", "@SUM(A1)", "\tx"]
    rows = [[text, None, None] for text in [*risky, "李老师", "1+1"]]
    cells, styles = written(tmp_path, rows)
    guarded = quote_prefixed_styles(styles)
    assert guarded
    for number in range(len(risky)):
        assert style_of(cells[f"A{number + 2}"]) in guarded
    for number in (len(risky), len(risky) + 1):
        assert style_of(cells[f"A{number + 2}"]) not in guarded


def test_numbers_and_dates_are_stored_as_numbers(tmp_path):
    cells, _ = written(tmp_path, [["x", Decimal("92.50"), datetime(2026, 12, 1, 12, 0)]])
    assert re.search(r"<v>92\.5</v>", cells["B2"]) and 't="' not in cells["B2"]
    # Excel's serial day: 2026-12-01 is 46357, noon half a day more.
    assert re.search(r"<v>46357\.5</v>", cells["C2"]) and 't="' not in cells["C2"]
