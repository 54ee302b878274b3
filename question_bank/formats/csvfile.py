"""CSV in the same columns as the Excel format (see :mod:`.table`).

Reading accepts UTF-8 (with or without BOM), UTF-16 with BOM and GBK/GB18030, comma-
or tab-separated. Writing produces UTF-8 with BOM and CRLF, which Excel opens cleanly.

Formula injection: on export, a cell starting with = + - @ (or with an apostrophe)
gets one more apostrophe in front, so spreadsheet programs treat it as text; on
import, one apostrophe is removed from a cell starting with an apostrophe followed by
one of those characters. Export then import gives back the exact text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from question_bank.formats import table
from question_bank.formats.base import (
    UNDECODABLE,
    Codec,
    ImportIssue,
    ImportResult,
    decode_text,
    head_text,
)
from question_bank.formats.limits import (
    DAMAGED,
    DEFAULT_LIMITS,
    FileRefusedError,
    ReadLimits,
    read_limited,
)
from question_bank.types import Question

_ESCAPED = ("=", "+", "-", "@", "'")


def load(
    data: bytes,
    default_category: tuple[str, ...],
    limits: ReadLimits = DEFAULT_LIMITS,
    type_codes: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read questions from CSV bytes, held to ``limits`` (rows and cell length)."""
    text = decode_text(data)
    if text is None:
        return ImportResult(errors=[UNDECODABLE])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = read_limited(reader, limits, _restore)
    except csv.Error as exc:
        message = f"CSV格式错误（{exc}）：请用Excel另存为CSV后重试"
        return ImportResult(errors=[ImportIssue(None, message)])
    except FileRefusedError as exc:
        if exc.reason not in DAMAGED:
            raise
        return ImportResult(errors=[ImportIssue(None, str(exc))])
    result = table.read_rows(rows, default_category, type_codes)
    return result or ImportResult(errors=[table.NO_HEADER])


def _delimiter(text: str) -> str:
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def _restore(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in _ESCAPED else cell


def _neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(_ESCAPED) else cell


def dump(questions: Sequence[Question]) -> bytes:
    """Write ``questions`` as UTF-8-with-BOM CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.EXPORT_HEADERS)
    writer.writerows([_neutralise(cell) for cell in table.question_row(q)] for q in questions)
    return buffer.getvalue().encode("utf-8-sig")


def looks_like(data: bytes) -> bool:
    """A text with a header row of known column names near the top."""
    text = head_text(data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error:
        return False
    return table.find_header(rows[:-1] or rows, ImportResult()) is not None


CODEC = Codec("csv", (".csv", ".tsv"), looks_like, load, dump, table.export_problem)
